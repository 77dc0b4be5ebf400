/**
 * The IAM side of the synthesized template: roles with their identity-based policies (inline `Policies`,
 * `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`, the AWS-managed policies the local cloud knows), each function's
 * role, and the resource-based policies of queues (`AWS::SQS::QueuePolicy`), functions (`AWS::Lambda::Permission`),
 * buses (`AWS::Events::EventBusPolicy`) and secrets (`AWS::SecretsManager::ResourcePolicy`).
 *
 * Everything is parsed when the local cloud boots: a policy it could not evaluate faithfully stops the boot, naming
 * the resource, instead of being ignored.
 */
import type { LocalResource, LocalTemplate } from '../template.ts';
import { type Policy, parsePolicy, type Statement, UnsupportedPolicyError } from './policy.ts';

/**
 * AWS-managed policies by name, as AWS publishes them. `AWSLambdaBasicExecutionRole` only concerns CloudWatch Logs
 * ("Permission to upload logs to CloudWatch": logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents).
 * Any other AWS-managed policy stops the boot: the local cloud does not guess its document.
 */
const AWS_MANAGED_POLICIES: Readonly<Record<string, unknown>> = {
  AWSLambdaBasicExecutionRole: {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: '*',
      },
    ],
  },
};

export interface RoleModel {
  readonly arn: string;
  readonly name: string;
  readonly logicalId: string;
  readonly policies: Policy[];
  readonly trust: Policy | undefined;
}

function fail(resource: LocalResource, message: string): never {
  throw new UnsupportedPolicyError(`${resource.type} ${resource.logicalId}: ${message}`);
}

function parse(resource: LocalResource, document: unknown, kind: Policy['kind'], label?: string): Policy {
  return parsePolicy(document, kind, `${resource.type} ${resource.logicalId}${label ? ` (${label})` : ''}`);
}

/** The roles, function roles and resource-based policies of one template. */
export class IamModel {
  private readonly roles = new Map<string, RoleModel>();
  private readonly functionRoles = new Map<string, string>();
  private readonly resourcePolicies = new Map<string, { source: string; statements: Statement[] }>();

  /**
   * @throws UnsupportedPolicyError naming the resource, for a policy that names an unsupported operator, key,
   *   element or principal, an unknown AWS-managed policy, a function whose role the template does not define, or
   *   a function role Lambda cannot assume.
   */
  constructor(private readonly template: LocalTemplate) {
    const rolesByName = new Map<string, RoleModel>();
    for (const resource of template.ofType('AWS::IAM::Role')) {
      const role: RoleModel = {
        arn: resource.arn,
        name: resource.name,
        logicalId: resource.logicalId,
        policies: [],
        trust:
          resource.properties.AssumeRolePolicyDocument === undefined
            ? undefined
            : parse(resource, resource.properties.AssumeRolePolicyDocument, 'resource', 'trust policy'),
      };
      for (const inline of (resource.properties.Policies as
        | { PolicyName?: string; PolicyDocument?: unknown }[]
        | undefined) ?? []) {
        role.policies.push(parse(resource, inline.PolicyDocument, 'identity', inline.PolicyName));
      }
      this.roles.set(role.arn, role);
      rolesByName.set(role.name, role);
    }
    const managed = new Map<string, Policy>();
    for (const resource of template.ofType('AWS::IAM::ManagedPolicy')) {
      const policy = parse(resource, resource.properties.PolicyDocument, 'identity');
      managed.set(resource.name, policy);
      managed.set(resource.physicalId, policy);
      managed.set(`arn:aws:iam::${template.accountId}:policy/${resource.name}`, policy);
      this.attach(resource, resource.properties.Roles, rolesByName, policy);
    }
    for (const resource of template.ofType('AWS::IAM::Role')) {
      const role = rolesByName.get(resource.name) as RoleModel;
      for (const arn of (resource.properties.ManagedPolicyArns as string[] | undefined) ?? []) {
        const awsManaged = /^arn:aws:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(String(arn))?.[1];
        const document = awsManaged === undefined ? undefined : AWS_MANAGED_POLICIES[awsManaged];
        if (document !== undefined) {
          role.policies.push(parsePolicy(document, 'identity', `AWS managed policy ${awsManaged}`));
        } else if (managed.has(String(arn))) {
          role.policies.push(managed.get(String(arn)) as Policy);
        } else {
          fail(
            resource,
            `managed policy ${String(arn)} is unknown to the local cloud; its permissions cannot be evaluated`,
          );
        }
      }
    }
    for (const resource of template.ofType('AWS::IAM::Policy')) {
      const policy = parse(resource, resource.properties.PolicyDocument, 'identity');
      this.attach(resource, resource.properties.Roles, rolesByName, policy);
    }
    for (const fn of template.ofType('AWS::Lambda::Function')) {
      const roleArn = String(fn.properties.Role ?? '');
      const role = this.roles.get(roleArn);
      if (!role)
        fail(
          fn,
          `its role ${roleArn} is not defined in the template; the local cloud cannot evaluate its permissions`,
        );
      if (!this.trusts(role, 'lambda.amazonaws.com')) {
        // CloudFormation answer when creating such a function.
        fail(
          fn,
          'InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda.',
        );
      }
      this.functionRoles.set(fn.name, roleArn);
    }
    this.loadResourcePolicies();
  }

  role(arn: string): RoleModel | undefined {
    return this.roles.get(arn);
  }

  /** The role ARN a function runs with. */
  functionRole(functionName: string): string | undefined {
    return this.functionRoles.get(functionName);
  }

  /** True when the role's trust policy lets `service` assume it (`sts:AssumeRole`, principal `Service`). */
  trusts(role: RoleModel, service: string): boolean {
    return (role.trust?.statements ?? []).some(
      (statement) =>
        statement.effect === 'Allow' &&
        (statement.principal?.everyone || statement.principal?.services.includes(service)) &&
        (statement.actions ?? []).some((action) => /^sts:(AssumeRole|\*)$/i.test(action) || action === '*'),
    );
  }

  /** The resource-based policy attached to a queue, function, bus or secret (by ARN), if any. */
  resourcePolicy(arn: string): Policy | undefined {
    const entry = this.resourcePolicies.get(arn);
    return entry ? { source: entry.source, kind: 'resource', statements: entry.statements } : undefined;
  }

  private attach(
    resource: LocalResource,
    roles: unknown,
    rolesByName: Map<string, RoleModel>,
    policy: Policy,
  ) {
    for (const name of (roles as string[] | undefined) ?? []) {
      const role = rolesByName.get(String(name)) ?? this.roles.get(String(name));
      if (!role) fail(resource, `attached to role ${String(name)}, which the template does not define`);
      role.policies.push(policy);
    }
  }

  private addResourceStatements(arn: string, source: string, statements: readonly Statement[]) {
    const entry = this.resourcePolicies.get(arn) ?? { source, statements: [] };
    if (!entry.source.includes(source)) entry.source = `${entry.source}, ${source}`;
    entry.statements.push(...statements);
    this.resourcePolicies.set(arn, entry);
  }

  private loadResourcePolicies() {
    const { template } = this;
    for (const resource of template.ofType('AWS::SQS::QueuePolicy')) {
      const policy = parse(resource, resource.properties.PolicyDocument, 'resource');
      for (const url of (resource.properties.Queues as string[] | undefined) ?? []) {
        const queue = template.byPhysicalId(String(url));
        if (!queue) fail(resource, `queue ${String(url)} is not defined in the template`);
        this.addResourceStatements(queue.arn, policy.source, policy.statements);
      }
    }
    for (const resource of template.ofType('AWS::Lambda::Permission')) {
      const arn = this.functionArn(String(resource.properties.FunctionName ?? ''));
      if (!arn)
        fail(resource, `function ${String(resource.properties.FunctionName)} is not defined in the template`);
      this.addResourceStatements(arn, `${resource.type} ${resource.logicalId}`, [
        ...parse(resource, lambdaPermissionStatement(resource, arn), 'resource').statements,
      ]);
    }
    for (const resource of template.ofType('AWS::Events::EventBusPolicy')) {
      const busName = String(resource.properties.EventBusName ?? 'default');
      const arn = `arn:aws:events:${template.region}:${template.accountId}:event-bus/${busName}`;
      if (resource.properties.Statement === undefined)
        fail(resource, 'only the Statement form of an event bus policy is evaluated locally');
      const policy = parse(
        resource,
        { Version: '2012-10-17', Statement: [resource.properties.Statement] },
        'resource',
      );
      this.addResourceStatements(arn, policy.source, policy.statements);
    }
    for (const resource of template.ofType('AWS::SecretsManager::ResourcePolicy')) {
      const policy = parse(resource, resource.properties.ResourcePolicy, 'resource');
      this.addResourceStatements(String(resource.properties.SecretId), policy.source, policy.statements);
    }
  }

  /** A function ARN from a name, ARN or partial ARN, as `FunctionName` accepts them (qualifier dropped). */
  private functionArn(reference: string): string | undefined {
    const name = reference.includes(':function:')
      ? (reference.split(':function:')[1]?.split(':')[0] ?? '')
      : (reference.split(':')[0] ?? '');
    return this.template.ofType('AWS::Lambda::Function').find((fn) => fn.name === name)?.arn;
  }
}

/**
 * The statement Lambda adds to a function's resource-based policy for an `AWS::Lambda::Permission` (Lambda
 * Developer Guide, "Viewing resource-based IAM policies"): the principal, the action, the function, and
 * `ArnLike AWS:SourceArn` / `StringEquals AWS:SourceAccount` conditions.
 */
function lambdaPermissionStatement(resource: LocalResource, functionArn: string): unknown {
  const properties = resource.properties;
  for (const unsupported of [
    'EventSourceToken',
    'PrincipalOrgID',
    'FunctionUrlAuthType',
    'InvokedViaFunctionUrl',
  ]) {
    if (properties[unsupported] !== undefined)
      fail(resource, `${unsupported} is not evaluated by the local cloud`);
  }
  const principal = String(properties.Principal ?? '');
  const principalSpec =
    principal === '*'
      ? '*'
      : principal.endsWith('.amazonaws.com')
        ? { Service: principal }
        : { AWS: principal };
  const condition: Record<string, Record<string, string>> = {};
  if (properties.SourceArn !== undefined)
    condition.ArnLike = { 'AWS:SourceArn': String(properties.SourceArn) };
  if (properties.SourceAccount !== undefined)
    condition.StringEquals = { 'AWS:SourceAccount': String(properties.SourceAccount) };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: resource.logicalId,
        Effect: 'Allow',
        Principal: principalSpec,
        Action: String(properties.Action ?? 'lambda:InvokeFunction'),
        Resource: functionArn,
        ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
      },
    ],
  };
}
