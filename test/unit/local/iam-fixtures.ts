/** Template resources for IAM tests: a role Lambda can assume, and a policy attached to a role. */

/** An `AWS::IAM::Role` that Lambda may assume (`lambda.amazonaws.com`, `sts:AssumeRole`), with `extra` properties. */
export function lambdaRole(extra: Record<string, unknown> = {}) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      },
      ...extra,
    },
  };
}

/** An `AWS::IAM::Policy` with `statements`, attached to the roles with these logical ids. */
export function rolePolicy(statements: unknown[], roles: readonly string[] = ['WorkerRole']) {
  return {
    Type: 'AWS::IAM::Policy',
    Properties: {
      PolicyName: 'p',
      PolicyDocument: { Version: '2012-10-17', Statement: statements },
      Roles: roles.map((logicalId) => ({ Ref: logicalId })),
    },
  };
}
