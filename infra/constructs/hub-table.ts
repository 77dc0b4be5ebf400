import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type ITable, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { LocalRole } from '../config/local-roles.ts';
import { markLocalRole } from './local-role.ts';

export interface HubTableProps {
  readonly partitionKey: string;
  /** @default no sort key */
  readonly sortKey?: string;
  /** TTL attribute (epoch seconds) for records that expire. @default no TTL */
  readonly timeToLiveAttribute?: string;
  readonly pointInTimeRecovery: boolean;
  readonly removalPolicy: RemovalPolicy;
  /** What the table is for, so the local cloud can find it (see `markLocalRole`). @default unmarked */
  readonly localRole?: LocalRole;
}

/**
 * A DynamoDB table with the hub's defaults: on-demand, encrypted at rest with a KMS key (AWS managed),
 * point-in-time recovery where the environment asks for it, string keys.
 */
export class HubTable extends Table {
  constructor(scope: Construct, id: string, props: HubTableProps) {
    super(scope, id, {
      partitionKey: { name: props.partitionKey, type: AttributeType.STRING },
      ...(props.sortKey ? { sortKey: { name: props.sortKey, type: AttributeType.STRING } } : {}),
      ...(props.timeToLiveAttribute ? { timeToLiveAttribute: props.timeToLiveAttribute } : {}),
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery },
      removalPolicy: props.removalPolicy,
    });
    if (props.localRole) markLocalRole(this, props.localRole);
    if (!props.pointInTimeRecovery) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-DDB3',
        reason:
          'Point-in-time recovery is enabled in production only; other environments hold disposable test data.',
      });
    }
  }
}

/**
 * Single-item `actions` on the partitions whose key starts with one of `prefixes` (IAM
 * `dynamodb:LeadingKeys`): a table several functions share, each confined to its own records.
 */
export function grantPartitions(
  table: ITable,
  grantee: IGrantable,
  prefixes: readonly string[],
  ...actions: string[]
): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions,
    resourceArns: [table.tableArn],
    conditions: {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.map((prefix) => `${prefix}*`) },
    },
  });
}

/**
 * Powertools idempotency reads, writes, updates and deletes single records of its table — nothing
 * else (no scans, queries or batches) — and only its own (`<keyPrefix>#…`).
 */
export function grantIdempotency(table: ITable, grantee: IGrantable, keyPrefix: string): Grant {
  return grantPartitions(
    table,
    grantee,
    [`${keyPrefix}#`],
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  );
}
