import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_ROLE_METADATA_KEY, type LocalRole } from '#infra/config/local-roles.ts';

/**
 * A synthesized CloudFormation template with every intrinsic resolved to its local value, so the
 * local cloud runs exactly what `cdk deploy` would create: same names, same environment, same rules.
 */
export interface LocalResource {
  readonly logicalId: string;
  readonly type: string;
  /** Properties with Ref / Fn::GetAtt / Fn::Join / Fn::Sub / Fn::Select / Fn::Split resolved. */
  readonly properties: Record<string, unknown>;
  /** The local physical id: a table or queue name, a function name, a bus name, an ARN for secrets. */
  readonly physicalId: string;
  /** The resource's name (for a queue: its name, where physicalId is its URL). */
  readonly name: string;
  readonly arn: string;
  readonly metadata: Record<string, unknown>;
}

export interface LocalTemplate {
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  readonly resources: ReadonlyMap<string, LocalResource>;
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Directory of the cloud assembly (for Lambda assets). */
  readonly assemblyDir: string;
  ofType(type: string): LocalResource[];
  /** Resolves any template value (used for values outside Properties, e.g. outputs). */
  resolve(value: unknown): unknown;
  byArn(arn: string): LocalResource | undefined;
  byPhysicalId(id: string): LocalResource | undefined;
  /** The resources the constructs marked with `role` (template `Metadata`, see infra/config/local-roles.ts). */
  withRole(role: LocalRole): LocalResource[];
}

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface RawTemplate {
  Resources?: Record<
    string,
    { Type: string; Properties?: Record<string, Json>; Metadata?: Record<string, Json> }
  >;
  Outputs?: Record<string, { Value: Json }>;
  Parameters?: Record<string, { Default?: Json }>;
}

/** Physical names CloudFormation would generate are replaced by stable, readable local ones. */
function physicalName(stackName: string, logicalId: string, max: number): string {
  const name = `${stackName}-${logicalId}`;
  return name.length <= max ? name : `${name.slice(0, max - 9)}-${logicalId.slice(-8)}`;
}

/** Name property per resource type: when the template sets it, the local resource uses it. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::DynamoDB::GlobalTable': 'TableName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Events::EventBus': 'Name',
  'AWS::Events::Rule': 'Name',
  'AWS::Events::Archive': 'ArchiveName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Scheduler::Schedule': 'Name',
};

function arnFor(type: string, name: string, region: string, account: string): string {
  switch (type) {
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return `arn:aws:dynamodb:${region}:${account}:table/${name}`;
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${region}:${account}:${name}`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${region}:${account}:function:${name}`;
    case 'AWS::Events::EventBus':
      return `arn:aws:events:${region}:${account}:event-bus/${name}`;
    case 'AWS::Events::Rule':
      return `arn:aws:events:${region}:${account}:rule/${name}`;
    case 'AWS::Events::Archive':
      return `arn:aws:events:${region}:${account}:archive/${name}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${region}:${account}:stateMachine:${name}`;
    case 'AWS::SecretsManager::Secret':
      return `arn:aws:secretsmanager:${region}:${account}:secret:${name}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${region}:${account}:${name}`;
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${account}:role/${name}`;
    case 'AWS::Logs::LogGroup':
      return `arn:aws:logs:${region}:${account}:log-group:${name}:*`;
    case 'AWS::KMS::Key':
      return `arn:aws:kms:${region}:${account}:key/${name}`;
    default:
      return `arn:aws:local:${region}:${account}:${type.replaceAll('::', '-').toLowerCase()}/${name}`;
  }
}

/**
 * Loads `<stackName>.template.json` from a cloud assembly and resolves it for `endpoints` (queue URLs
 * use the local SQS endpoint, as a real queue's Ref is its URL).
 */
export function loadTemplate(
  assemblyDir: string,
  stackName: string,
  options: { sqsEndpoint: string; apiEndpoint: string; region?: string; accountId?: string },
): LocalTemplate {
  const raw = JSON.parse(
    readFileSync(join(assemblyDir, `${stackName}.template.json`), 'utf8'),
  ) as RawTemplate;
  const region = options.region ?? LOCAL_REGION;
  const accountId = options.accountId ?? LOCAL_ACCOUNT;
  const rawResources = raw.Resources ?? {};

  const names = new Map<string, string>();
  for (const [logicalId, resource] of Object.entries(rawResources)) {
    const nameProperty = NAME_PROPERTY[resource.Type];
    const explicit = nameProperty ? resource.Properties?.[nameProperty] : undefined;
    const max =
      resource.Type === 'AWS::Lambda::Function' ? 64 : resource.Type === 'AWS::SQS::Queue' ? 80 : 128;
    names.set(logicalId, typeof explicit === 'string' ? explicit : physicalName(stackName, logicalId, max));
  }
  const arnOf = (logicalId: string): string => {
    const resource = rawResources[logicalId];
    if (!resource) throw new Error(`unknown resource ${logicalId}`);
    const name = names.get(logicalId) ?? logicalId;
    if (
      resource.Type === 'AWS::SQS::Queue' &&
      String(resource.Properties?.FifoQueue) === 'true' &&
      !name.endsWith('.fifo')
    ) {
      return arnFor(resource.Type, `${name}.fifo`, region, accountId);
    }
    if (resource.Type === 'AWS::Events::Rule' && resource.Properties?.EventBusName !== undefined) {
      // A rule on another bus than the default one is `rule/<bus>/<name>` (what queue policies and Lambda
      // permissions name as aws:SourceArn, and what EventBridge reports).
      const bus = String(resolve(resource.Properties.EventBusName)).split('/').pop() ?? 'default';
      if (bus !== 'default') return arnFor(resource.Type, `${bus}/${name}`, region, accountId);
    }
    return arnFor(resource.Type, name, region, accountId);
  };
  const queueUrl = (logicalId: string) => `${options.sqsEndpoint}/${accountId}/${names.get(logicalId)}`;

  const pseudo: Record<string, string> = {
    'AWS::Region': region,
    'AWS::AccountId': accountId,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': stackName,
    'AWS::StackId': `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/local`,
    'AWS::NoValue': '',
  };

  const ref = (name: string): unknown => {
    if (name in pseudo) return pseudo[name];
    const resource = rawResources[name];
    if (!resource) {
      const parameter = raw.Parameters?.[name];
      if (parameter) return parameter.Default ?? '';
      throw new Error(`Ref to unknown ${name}`);
    }
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        return queueUrl(name);
      case 'AWS::SecretsManager::Secret':
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::SNS::Topic':
        return arnOf(name);
      default:
        return names.get(name);
    }
  };

  const getAtt = (logicalId: string, attribute: string): unknown => {
    const resource = rawResources[logicalId];
    if (!resource) throw new Error(`Fn::GetAtt on unknown ${logicalId}`);
    const name = names.get(logicalId) ?? logicalId;
    switch (attribute) {
      case 'Arn':
        return arnOf(logicalId);
      case 'QueueName':
        return name;
      case 'QueueUrl':
        return queueUrl(logicalId);
      case 'Name':
      case 'StateMachineName':
        return name;
      case 'StreamArn':
        return `${arnOf(logicalId)}/stream/local`;
      case 'ApiEndpoint':
        return options.apiEndpoint;
      default:
        return `${name}.${attribute}`;
    }
  };

  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [[key, argument]] = entries as [[string, unknown]];
      switch (key) {
        case 'Ref':
          return ref(String(argument));
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(argument) ? argument : String(argument).split('.');
          return getAtt(String(logicalId), String(attribute));
        }
        case 'Fn::Join': {
          const [separator, parts] = argument as [string, unknown[]];
          return (resolve(parts) as unknown[]).map(String).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = argument as [unknown, unknown];
          return (resolve(list) as unknown[])[Number(resolve(index))];
        }
        case 'Fn::Split': {
          const [separator, text] = argument as [string, unknown];
          return String(resolve(text)).split(separator);
        }
        case 'Fn::Sub': {
          const [text, variables] = Array.isArray(argument)
            ? (argument as [string, Record<string, unknown>])
            : [String(argument), {}];
          const resolvedVariables = resolve(variables) as Record<string, unknown>;
          return text.replace(/\$\{([^}]+)\}/g, (_match, name: string) => {
            if (name in resolvedVariables) return String(resolvedVariables[name]);
            if (name.includes('.')) {
              const [logicalId, attribute] = name.split('.') as [string, string];
              return String(getAtt(logicalId, attribute));
            }
            return String(ref(name));
          });
        }
        case 'Fn::If':
        case 'Fn::Equals':
        case 'Fn::Not':
          throw new Error(`${key} is not supported by the local cloud`);
        default:
          break;
      }
    }
    return Object.fromEntries(entries.map(([key, inner]) => [key, resolve(inner)]));
  };

  const resources = new Map<string, LocalResource>();
  for (const [logicalId, resource] of Object.entries(rawResources)) {
    resources.set(logicalId, {
      logicalId,
      type: resource.Type,
      properties: resolve(resource.Properties ?? {}) as Record<string, unknown>,
      physicalId: resource.Type === 'AWS::SQS::Queue' ? queueUrl(logicalId) : String(ref(logicalId)),
      name: names.get(logicalId) ?? logicalId,
      arn: arnOf(logicalId),
      metadata: (resource.Metadata ?? {}) as Record<string, unknown>,
    });
  }
  const outputs = Object.fromEntries(
    Object.entries(raw.Outputs ?? {}).map(([name, output]) => [name, resolve(output.Value)]),
  );
  const all = [...resources.values()];
  return {
    stackName,
    region,
    accountId,
    resources,
    outputs,
    assemblyDir,
    ofType: (type) => all.filter((resource) => resource.type === type),
    resolve,
    byArn: (arn) => all.find((resource) => resource.arn === arn),
    byPhysicalId: (id) => all.find((resource) => resource.physicalId === id),
    withRole: (role) => all.filter((resource) => resource.metadata[LOCAL_ROLE_METADATA_KEY] === role),
  };
}
