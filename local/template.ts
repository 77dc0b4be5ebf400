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
    {
      Type: string;
      Properties?: Record<string, Json>;
      Metadata?: Record<string, Json>;
      Condition?: string;
    }
  >;
  Outputs?: Record<string, { Value: Json; Condition?: string }>;
  Parameters?: Record<string, { Default?: Json }>;
  Conditions?: Record<string, Json>;
  Mappings?: Record<string, Record<string, Record<string, Json>>>;
}

/** What `{"Ref": "AWS::NoValue"}` resolves to: the property (or list item) holding it is removed. */
const NO_VALUE = Symbol('AWS::NoValue');

/**
 * The `Fn::GetAtt` attributes the local cloud resolves, per resource type: the return values the
 * CloudFormation template reference documents for each type ("Return values" → "Fn::GetAtt"), where a
 * local value exists. Anything else stops the boot: a typo or an attribute the local cloud cannot give
 * must not become a made-up string that only fails at run time.
 */
const GET_ATT: Readonly<Record<string, readonly string[]>> = {
  'AWS::SQS::Queue': ['Arn', 'QueueName', 'QueueUrl'],
  'AWS::Lambda::Function': ['Arn'],
  'AWS::DynamoDB::Table': ['Arn', 'StreamArn'],
  'AWS::DynamoDB::GlobalTable': ['Arn', 'StreamArn', 'TableId'],
  'AWS::Events::EventBus': ['Arn', 'Name'],
  'AWS::Events::Rule': ['Arn'],
  'AWS::Events::Archive': ['Arn', 'ArchiveName'],
  'AWS::StepFunctions::StateMachine': ['Arn', 'Name', 'StateMachineRevisionId'],
  'AWS::SecretsManager::Secret': ['Id'],
  'AWS::SNS::Topic': ['TopicArn', 'TopicName'],
  'AWS::IAM::Role': ['Arn', 'RoleId'],
  'AWS::Logs::LogGroup': ['Arn'],
  'AWS::KMS::Key': ['Arn', 'KeyId'],
  'AWS::ApiGatewayV2::Api': ['ApiEndpoint', 'ApiId'],
  'AWS::CloudWatch::Alarm': ['Arn'],
  'AWS::Scheduler::Schedule': ['Arn'],
  'AWS::SSM::Parameter': ['Type', 'Value'],
};

/** The intrinsic functions this resolver implements; any other `Fn::` stops the boot. */
const INTRINSICS = new Set([
  'Ref',
  'Fn::GetAtt',
  'Fn::Join',
  'Fn::Select',
  'Fn::Split',
  'Fn::Sub',
  'Fn::If',
  'Fn::Equals',
  'Fn::Not',
  'Fn::And',
  'Fn::Or',
  'Condition',
  'Fn::FindInMap',
  'Fn::Base64',
]);

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
  'AWS::CloudWatch::Alarm': 'AlarmName',
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
    case 'AWS::CloudWatch::Alarm':
      return `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`;
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
  };

  const ref = (name: string): unknown => {
    // "AWS::NoValue: Removes the corresponding resource property when specified as a return value"
    // (CloudFormation User Guide, Pseudo parameters reference).
    if (name === 'AWS::NoValue') return NO_VALUE;
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
    if (!GET_ATT[resource.Type]?.includes(attribute)) {
      throw new Error(
        `Fn::GetAtt ${logicalId}.${attribute}: ${resource.Type} has no attribute ${attribute} the local cloud can resolve (known: ${(GET_ATT[resource.Type] ?? []).join(', ') || 'none'})`,
      );
    }
    const name = names.get(logicalId) ?? logicalId;
    switch (attribute) {
      case 'Arn':
      case 'TopicArn':
        return arnOf(logicalId);
      case 'QueueUrl':
        return queueUrl(logicalId);
      case 'StreamArn':
        return `${arnOf(logicalId)}/stream/local`;
      case 'ApiEndpoint':
        return options.apiEndpoint;
      case 'Id':
        // AWS::SecretsManager::Secret: "Id" is the secret's ARN, like its Ref.
        return arnOf(logicalId);
      case 'Type':
      case 'Value':
        return resolve(resource.Properties?.[attribute]);
      default:
        // Names and ids: QueueName, Name, StateMachineName, TopicName, ArchiveName, RoleId, KeyId, ApiId, …
        return name;
    }
  };

  const conditionCache = new Map<string, boolean>();
  const condition = (name: string): boolean => {
    const cached = conditionCache.get(name);
    if (cached !== undefined) return cached;
    const definition = raw.Conditions?.[name];
    if (definition === undefined) throw new Error(`condition ${name} is not defined in Conditions`);
    const value = resolve(definition);
    if (typeof value !== 'boolean') throw new Error(`condition ${name} does not evaluate to true or false`);
    conditionCache.set(name, value);
    return value;
  };

  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [[key, argument]] = entries as [[string, unknown]];
      if ((key.startsWith('Fn::') || key === 'Ref') && !INTRINSICS.has(key)) {
        throw new Error(`${key} is not supported by the local cloud`);
      }
      switch (key) {
        case 'Ref':
          return ref(String(argument));
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(argument)
            ? argument
            : (() => {
                const text = String(argument);
                const dot = text.indexOf('.');
                return [text.slice(0, dot), text.slice(dot + 1)];
              })();
          return getAtt(String(logicalId), String(resolve(attribute)));
        }
        case 'Fn::Join': {
          const [separator, parts] = argument as [string, unknown[]];
          return (resolve(parts) as unknown[]).map(String).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = argument as [unknown, unknown];
          const items = resolve(list) as unknown[];
          const at = Number(resolve(index));
          if (!Number.isInteger(at) || at < 0 || at >= items.length) {
            throw new Error(`Fn::Select index ${at} is out of range for a list of ${items.length}`);
          }
          return items[at];
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
          return text
            .replace(/\$\{([^}!][^}]*)\}/g, (_match, name: string) => {
              if (name in resolvedVariables) return String(resolvedVariables[name]);
              if (name.includes('.')) {
                const dot = name.indexOf('.');
                return String(getAtt(name.slice(0, dot), name.slice(dot + 1)));
              }
              return String(ref(name));
            })
            .replace(/\$\{!/g, '${');
        }
        case 'Fn::If': {
          const [name, whenTrue, whenFalse] = argument as [string, unknown, unknown];
          return resolve(condition(String(name)) ? whenTrue : whenFalse);
        }
        case 'Condition':
          return condition(String(argument));
        case 'Fn::Equals': {
          const [left, right] = (argument as unknown[]).map(resolve);
          return JSON.stringify(left) === JSON.stringify(right);
        }
        case 'Fn::Not':
          return !(resolve((argument as unknown[])[0]) as boolean);
        case 'Fn::And':
          return (argument as unknown[]).every((item) => resolve(item) === true);
        case 'Fn::Or':
          return (argument as unknown[]).some((item) => resolve(item) === true);
        case 'Fn::FindInMap': {
          const [map, top, second] = (argument as unknown[]).map((item) => String(resolve(item)));
          const found = raw.Mappings?.[map as string]?.[top as string]?.[second as string];
          if (found === undefined) throw new Error(`Fn::FindInMap: no ${map}.${top}.${second} in Mappings`);
          return resolve(found);
        }
        case 'Fn::Base64':
          return Buffer.from(String(resolve(argument)), 'utf8').toString('base64');
        default:
          break;
      }
    }
    return Object.fromEntries(
      entries.map(([key, inner]) => [key, resolve(inner)] as const).filter(([, inner]) => inner !== NO_VALUE),
    );
  };

  const resources = new Map<string, LocalResource>();
  for (const [logicalId, resource] of Object.entries(rawResources)) {
    // A resource whose Condition is false is not created (CloudFormation User Guide, Conditions syntax).
    if (resource.Condition !== undefined && !condition(resource.Condition)) continue;
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
    Object.entries(raw.Outputs ?? {})
      .filter(([, output]) => output.Condition === undefined || condition(output.Condition))
      .map(([name, output]) => [name, resolve(output.Value)]),
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
