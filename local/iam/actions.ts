/**
 * Which IAM actions on which resources a service request needs, per the Service Authorization Reference
 * ("Actions, resources, and condition keys for Amazon DynamoDB / Amazon SQS / Amazon EventBridge / AWS Step
 * Functions / AWS Secrets Manager / AWS Systems Manager / AWS Lambda"):
 *
 * - DynamoDB: the action is the operation (`dynamodb:PutItem`) on the table ARN, or on `table/T/index/I` for a
 *   Query or Scan of an index; batch operations need their action on every table they name; a transaction needs,
 *   per item, the action of the item operation (`TransactWriteItems` Put → `dynamodb:PutItem`, Update →
 *   `dynamodb:UpdateItem`, Delete → `dynamodb:DeleteItem`, ConditionCheck → `dynamodb:ConditionCheckItem`;
 *   `TransactGetItems` Get → `dynamodb:GetItem`). `dynamodb:LeadingKeys` holds the partition key values an
 *   item operation or a Query touches (none for a Scan).
 * - SQS: the action is the operation on the queue ARN; the batch operations need the action of their single form
 *   (`SendMessageBatch` → `sqs:SendMessage`, `DeleteMessageBatch` → `sqs:DeleteMessage`,
 *   `ChangeMessageVisibilityBatch` → `sqs:ChangeMessageVisibility`).
 * - EventBridge: `events:PutEvents` on each entry's bus, with `events:source` and `events:detail-type`; rule
 *   operations on the rule ARN (`rule/<name>` on the default bus, `rule/<bus>/<name>` on another).
 * - Step Functions: execution operations on the state machine or execution ARN; task-token callbacks on `*`.
 * - Secrets Manager: the secret ARN; SSM: `parameter/<name>`; Lambda: the function ARN.
 * - Anything else: `<service>:<Operation>` on `*`.
 */
import type { AuthorizationRequest } from './local-iam.ts';

/** What the mapping needs to know about the account's resources. */
export interface ResourceDirectory {
  readonly region: string;
  readonly accountId: string;
  /** Partition key attribute of a table (by name), for `dynamodb:LeadingKeys`. */
  partitionKeyOf(tableName: string): string | undefined;
  /** A queue ARN from its URL or name. */
  queueArn(urlOrName: string): string | undefined;
  /** A secret's ARN from its name or ARN. */
  secretArn(id: string): string | undefined;
}

type Input = Record<string, unknown>;

function record(value: unknown): Input {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Input) : {};
}

/** The scalar text of a DynamoDB AttributeValue (S, N or B), as `dynamodb:LeadingKeys` compares it. */
function attributeText(value: unknown): string | undefined {
  const attribute = record(value);
  for (const type of ['S', 'N', 'B'])
    if (typeof attribute[type] === 'string') return attribute[type] as string;
  return undefined;
}

/** The partition key value of a Query, from `KeyConditionExpression` (`#pk = :v` or `pk = :v`) or `KeyConditions`. */
function queryPartitionValue(input: Input, partitionKey: string): string | undefined {
  const legacy = record(record(input.KeyConditions)[partitionKey]);
  if (Array.isArray(legacy.AttributeValueList)) return attributeText(legacy.AttributeValueList[0]);
  const expression = typeof input.KeyConditionExpression === 'string' ? input.KeyConditionExpression : '';
  const names = record(input.ExpressionAttributeNames);
  const values = record(input.ExpressionAttributeValues);
  for (const match of expression.matchAll(/([#\w.]+)\s*=\s*(:\w+)|(:\w+)\s*=\s*([#\w.]+)/g)) {
    const name = match[1] ?? match[4] ?? '';
    const placeholder = match[2] ?? match[3] ?? '';
    const resolved = name.startsWith('#') ? names[name] : name;
    if (resolved === partitionKey) return attributeText(values[placeholder]);
  }
  return undefined;
}

/** DynamoDB (`DynamoDB_20120810.<Operation>`). */
export function dynamodbRequests(
  operation: string,
  input: Input,
  directory: ResourceDirectory,
): AuthorizationRequest[] {
  const tableArn = (table: string) =>
    `arn:aws:dynamodb:${directory.region}:${directory.accountId}:table/${table}`;
  const leadingKeys = (table: string, keys: unknown[]): Record<string, string[]> => {
    const partitionKey = directory.partitionKeyOf(table);
    if (!partitionKey) return {};
    const values = keys
      .map((key) => attributeText(record(key)[partitionKey]))
      .filter((value): value is string => value !== undefined);
    return { 'dynamodb:leadingkeys': values };
  };
  const one = (action: string, table: string, context: Record<string, string[]> = {}) => ({
    action: `dynamodb:${action}`,
    resource: tableArn(table),
    context,
  });
  const tableName = typeof input.TableName === 'string' ? input.TableName : '';
  switch (operation) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
      return [one(operation, tableName, leadingKeys(tableName, [input.Key]))];
    case 'PutItem':
      return [one(operation, tableName, leadingKeys(tableName, [input.Item]))];
    case 'Query':
    case 'Scan': {
      const index = typeof input.IndexName === 'string' ? `/index/${input.IndexName}` : '';
      const partitionKey = directory.partitionKeyOf(tableName);
      const value =
        operation === 'Query' && partitionKey && !index
          ? queryPartitionValue(input, partitionKey)
          : undefined;
      return [
        {
          action: `dynamodb:${operation}`,
          resource: `${tableArn(tableName)}${index}`,
          context: value === undefined ? {} : { 'dynamodb:leadingkeys': [value] },
        },
      ];
    }
    case 'BatchGetItem':
      return Object.entries(record(input.RequestItems)).map(([table, request]) =>
        one(operation, table, leadingKeys(table, (record(request).Keys as unknown[] | undefined) ?? [])),
      );
    case 'BatchWriteItem':
      return Object.entries(record(input.RequestItems)).map(([table, writes]) =>
        one(
          operation,
          table,
          leadingKeys(
            table,
            ((writes as unknown[] | undefined) ?? []).map((write) => {
              const entry = record(write);
              return record(entry.PutRequest).Item ?? record(entry.DeleteRequest).Key;
            }),
          ),
        ),
      );
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const actions: Record<string, [string, string]> = {
        Put: ['PutItem', 'Item'],
        Update: ['UpdateItem', 'Key'],
        Delete: ['DeleteItem', 'Key'],
        ConditionCheck: ['ConditionCheckItem', 'Key'],
        Get: ['GetItem', 'Key'],
      };
      return ((input.TransactItems as unknown[] | undefined) ?? []).flatMap((item) =>
        Object.entries(record(item)).flatMap(([kind, body]) => {
          const [action, keyField] = actions[kind] ?? [kind, 'Key'];
          const table = String(record(body).TableName ?? '');
          return [one(action, table, leadingKeys(table, [record(body)[keyField]]))];
        }),
      );
    }
    case 'ListTables':
    case 'DescribeLimits':
    case 'DescribeEndpoints':
      return [{ action: `dynamodb:${operation}`, resource: '*' }];
    case 'ListTagsOfResource':
    case 'TagResource':
    case 'UntagResource':
      return [{ action: `dynamodb:${operation}`, resource: String(input.ResourceArn ?? '*') }];
    default:
      return [one(operation, tableName)];
  }
}

const SQS_BATCH_ACTIONS: Readonly<Record<string, string>> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/** SQS (JSON `AmazonSQS.<Operation>` or query `Action=<Operation>`); `QueueUrl` or `QueueName` name the queue. */
export function sqsRequests(
  operation: string,
  input: Input,
  directory: ResourceDirectory,
): AuthorizationRequest[] {
  const action = `sqs:${SQS_BATCH_ACTIONS[operation] ?? operation}`;
  if (operation === 'ListQueues') return [{ action, resource: '*' }];
  const reference =
    typeof input.QueueUrl === 'string'
      ? input.QueueUrl
      : typeof input.QueueName === 'string'
        ? input.QueueName
        : undefined;
  const resource =
    (reference && directory.queueArn(reference)) ??
    (typeof input.QueueName === 'string'
      ? `arn:aws:sqs:${directory.region}:${directory.accountId}:${input.QueueName}`
      : '*');
  return [{ action, resource }];
}

/** An event bus ARN from a name or ARN (the default bus when omitted). */
export function eventBusArn(directory: ResourceDirectory, nameOrArn: unknown): string {
  const text = typeof nameOrArn === 'string' && nameOrArn !== '' ? nameOrArn : 'default';
  return text.startsWith('arn:')
    ? text
    : `arn:aws:events:${directory.region}:${directory.accountId}:event-bus/${text}`;
}

/** One `events:PutEvents` request per entry: its bus, `events:source` and `events:detail-type`. */
export function putEventsRequests(input: Input, directory: ResourceDirectory): AuthorizationRequest[] {
  return ((input.Entries as unknown[] | undefined) ?? []).map((raw) => {
    const entry = record(raw);
    const context: Record<string, string[]> = {};
    if (typeof entry.Source === 'string') context['events:source'] = [entry.Source];
    if (typeof entry.DetailType === 'string') context['events:detail-type'] = [entry.DetailType];
    return { action: 'events:PutEvents', resource: eventBusArn(directory, entry.EventBusName), context };
  });
}

function ruleArn(directory: ResourceDirectory, input: Input): string {
  const bus = typeof input.EventBusName === 'string' ? input.EventBusName.split('/').pop() : undefined;
  const name = String(input.Name ?? input.Rule ?? '*');
  const path = bus && bus !== 'default' ? `${bus}/${name}` : name;
  return `arn:aws:events:${directory.region}:${directory.accountId}:rule/${path}`;
}

const RULE_OPERATIONS = new Set([
  'PutRule',
  'DescribeRule',
  'DeleteRule',
  'EnableRule',
  'DisableRule',
  'PutTargets',
  'RemoveTargets',
  'ListTargetsByRule',
]);

/** Operations of the AWS JSON-protocol services on the local AWS endpoint, by X-Amz-Target prefix. */
export function jsonProtocolRequests(
  prefix: string,
  operation: string,
  input: Input,
  directory: ResourceDirectory,
): AuthorizationRequest[] {
  const { region, accountId } = directory;
  switch (prefix) {
    case 'AWSEvents':
      if (operation === 'PutEvents') return putEventsRequests(input, directory);
      if (RULE_OPERATIONS.has(operation))
        return [{ action: `events:${operation}`, resource: ruleArn(directory, input) }];
      if (operation === 'ListRules')
        return [{ action: 'events:ListRules', resource: ruleArn(directory, {}) }];
      // StartReplay's resource type is the archive (Service Authorization Reference, Amazon EventBridge).
      if (operation === 'StartReplay' && typeof input.EventSourceArn === 'string')
        return [{ action: 'events:StartReplay', resource: input.EventSourceArn }];
      return [{ action: `events:${operation}`, resource: '*' }];
    case 'AWSStepFunctions': {
      if (operation.startsWith('SendTask')) return [{ action: `states:${operation}`, resource: '*' }];
      const arn = input.stateMachineArn ?? input.executionArn;
      return [{ action: `states:${operation}`, resource: typeof arn === 'string' ? arn : '*' }];
    }
    case 'secretsmanager': {
      if (operation === 'ListSecrets') return [{ action: 'secretsmanager:ListSecrets', resource: '*' }];
      const id = String(input.SecretId ?? '');
      return [
        {
          action: `secretsmanager:${operation}`,
          resource: directory.secretArn(id) ?? `arn:aws:secretsmanager:${region}:${accountId}:secret:${id}`,
        },
      ];
    }
    case 'AmazonSSM': {
      const parameterArn = (name: unknown) =>
        `arn:aws:ssm:${region}:${accountId}:parameter/${String(name ?? '').replace(/^\//, '')}`;
      if (operation === 'GetParameters')
        return ((input.Names as unknown[] | undefined) ?? []).map((name) => ({
          action: 'ssm:GetParameters',
          resource: parameterArn(name),
        }));
      if (operation === 'GetParametersByPath')
        return [{ action: 'ssm:GetParametersByPath', resource: parameterArn(input.Path) }];
      if (input.Name !== undefined)
        return [{ action: `ssm:${operation}`, resource: parameterArn(input.Name) }];
      return [{ action: `ssm:${operation}`, resource: '*' }];
    }
    default:
      return [{ action: `${prefix.toLowerCase()}:${operation}`, resource: '*' }];
  }
}
