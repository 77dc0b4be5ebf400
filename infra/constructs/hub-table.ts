import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type ITable, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { LocalRole } from '../config/local-roles.ts';
import { HubKey } from './hub-key.ts';
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
  /** The hub's customer managed key. @default the stack's `HubKey`, if any, else DynamoDB's AWS managed key */
  readonly encryptionKey?: IKey;
}

/**
 * A DynamoDB table with the hub's defaults: on-demand, encrypted at rest with a KMS key (AWS managed, or
 * the hub's customer managed key), point-in-time recovery where the environment asks for it, string keys.
 * Every grant on it ({@link HubTable.grant}, {@link grantPartitions}, {@link grantIdempotency}) also grants
 * `kms:Decrypt` on a customer managed key: DynamoDB decrypts the table key on the caller's behalf, for
 * reads and writes alike, so a caller without it is refused
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html).
 */
export class HubTable extends Table {
  constructor(scope: Construct, id: string, props: HubTableProps) {
    super(scope, id, {
      partitionKey: { name: props.partitionKey, type: AttributeType.STRING },
      ...(props.sortKey ? { sortKey: { name: props.sortKey, type: AttributeType.STRING } } : {}),
      ...(props.timeToLiveAttribute ? { timeToLiveAttribute: props.timeToLiveAttribute } : {}),
      billingMode: BillingMode.PAY_PER_REQUEST,
      ...encryptionOf(props.encryptionKey ?? HubKey.of(scope)),
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

  /** `actions` on the table (and `kms:Decrypt` on its customer managed key, if it has one). */
  override grant(grantee: IGrantable, ...actions: string[]): Grant {
    grantTableKey(this, grantee);
    return super.grant(grantee, ...actions);
  }
}

/** `kms:Decrypt` on the table's customer managed key, if it has one. */
function grantTableKey(table: ITable, grantee: IGrantable): void {
  table.encryptionKey?.grantDecrypt(grantee);
}

const encryptionOf = (key: IKey | undefined) =>
  key
    ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: key }
    : { encryption: TableEncryption.AWS_MANAGED };

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
  grantTableKey(table, grantee);
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
