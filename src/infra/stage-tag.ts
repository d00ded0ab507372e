import type { PolicyStatement } from './iam.ts';

/**
 * The tag that marks a service's resources as ones one greenlight stage may act on:
 * `greenlight:stage = <stage>`. With the IAM scope "tag" (the default), the function roles'
 * grants on service resources are wildcards of each resource type conditioned on this tag,
 * so they do not grow with the registry (README, "Security boundary").
 *
 * The key fits every service it is put on: ELBv2, ECS, IAM and S3 (TagResource) take
 * `[\p{L}\p{Z}\p{N}_.:/=+\-@]`, 1 to 128 characters (their API models' TagKey patterns);
 * Lambda, CloudWatch and ECR document the same characters ("Tag naming limits and
 * requirements", Tagging AWS Resources User Guide). The `aws:` prefix is reserved, and this is
 * not it. Stage names (lowercase letters, digits and dashes: names.ts) fit the value's pattern.
 */
export const StageTagKey = 'greenlight:stage';

/** The characters AWS's tagging APIs take in a tag key or value. */
export const TagCharacters = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export type TagConditionKey = 'aws:ResourceTag' | 'aws:RequestTag';

/**
 * `StringEquals` on the stage tag: `aws:ResourceTag` for a resource that exists (IAM compares
 * the resource's own tags), `aws:RequestTag` for one the request creates (the tags it is
 * created with).
 */
export function stageTagCondition(
  key: TagConditionKey,
  stage: string,
): NonNullable<PolicyStatement['Condition']> {
  return { StringEquals: { [`${key}/${StageTagKey}`]: stage } };
}

/** A statement of an SCP or permissions boundary: `NotAction` is allowed there. */
export interface GuardStatement {
  Sid: string;
  Effect: 'Deny';
  Action?: string[];
  NotAction?: string[];
  Resource: '*';
  Condition: Record<string, Record<string, string | string[]>>;
}

export interface GuardPolicy {
  Version: '2012-10-17';
  Statement: GuardStatement[];
}

/**
 * What keeps the stage tag honest: whoever may put `greenlight:stage` on a resource may let
 * greenlight act on it. greenlight does not deploy this (it belongs to the organization or to
 * the teams' roles): README "Security boundary" gives it to platform admins to attach as a
 * service control policy (or the same statements in the permissions boundary of every role
 * that is not an admin), and test/infra evaluates it.
 *
 * - Any request that names the key among its tags (`aws:TagKeys`: TagResource, UntagResource,
 *   AddTags, RemoveTags, TagRole, and creating a resource with tags) is denied to everyone but
 *   `adminPrincipalArns`. Keys compare case-insensitively: condition key names are not
 *   case-sensitive, so `aws:ResourceTag/greenlight:stage` also matches a `GREENLIGHT:STAGE`
 *   tag (IAM User Guide, "IAM JSON policy elements: Condition"), while Lambda's tag keys are.
 * - Except a task definition revision registered with the tag (ecs:RegisterTaskDefinition and
 *   its tag-on-create ecs:TagResource): greenlight copies blue's tags onto green's revision,
 *   and a revision is no privilege of its own (README, "Security boundary").
 * - S3 evaluates bucket tags only on buckets with ABAC enabled (Amazon S3 User Guide, "Using
 *   tags with S3 general purpose buckets"), and while ABAC is off PutBucketTagging (which names
 *   no `aws:TagKeys`) sets them: only admins may switch ABAC, so a bucket tag counts only from
 *   when an admin enables ABAC on a bucket whose tags they checked.
 *
 * Pattern from AWS Organizations User Guide, "Example SCPs for tagging resources", and IAM User
 * Guide, "Controlling access based on tag keys" (aws:TagKeys).
 */
export function stageTagGuardPolicy(adminPrincipalArns: readonly string[]): GuardPolicy {
  const notAdmin = { ArnNotLike: { 'aws:PrincipalArn': [...adminPrincipalArns].sort() } };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnlyAdminsSetTheGreenlightStageTag',
        Effect: 'Deny',
        NotAction: ['ecs:RegisterTaskDefinition'],
        Resource: '*',
        Condition: {
          'ForAnyValue:StringEqualsIgnoreCase': { 'aws:TagKeys': [StageTagKey] },
          StringNotEqualsIfExists: { 'ecs:CreateAction': 'RegisterTaskDefinition' },
          ...notAdmin,
        },
      },
      {
        Sid: 'OnlyAdminsSwitchBucketAbac',
        Effect: 'Deny',
        Action: ['s3:PutBucketAbac'],
        Resource: '*',
        Condition: notAdmin,
      },
    ],
  };
}
