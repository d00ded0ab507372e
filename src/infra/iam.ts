/** IAM policy documents as plain data, so they are built and checked without AWS or Pulumi. */

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, string | string[]>;
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export function policyDocument(statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

/** A trust policy that lets one AWS service assume a role, optionally pinned to a source. */
export function assumeRolePolicy(
  service: string,
  condition?: PolicyStatement['Condition'],
): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: service },
        Action: ['sts:AssumeRole'],
        Resource: [],
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  };
}

/** Trust policies carry no Resource; IAM rejects one that does. */
export function trustPolicyJson(document: PolicyDocument): string {
  return JSON.stringify({
    Version: document.Version,
    Statement: document.Statement.map(({ Resource: _resource, ...statement }) => statement),
  });
}

/**
 * Actions containing `*` anywhere: `*`, `s3:*`, `lambda:Get*`. Never allowed here: a wildcard
 * action grants whatever AWS adds to that service tomorrow.
 */
export function wildcardActions(document: PolicyDocument): string[] {
  return document.Statement.flatMap((statement) =>
    statement.Action.filter((action) => action.includes('*')),
  );
}

/** Every action a document allows. */
export function allowedActions(document: PolicyDocument): Set<string> {
  return new Set(
    document.Statement.filter((statement) => statement.Effect === 'Allow').flatMap(
      (statement) => statement.Action,
    ),
  );
}
