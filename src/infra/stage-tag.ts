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
