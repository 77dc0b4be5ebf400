import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';

export interface HubTableProps {
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** TTL attribute (epoch seconds) for records that expire. */
  readonly timeToLiveAttribute?: string;
  readonly pointInTimeRecovery: boolean;
  readonly removalPolicy: RemovalPolicy;
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
    if (!props.pointInTimeRecovery) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-DDB3',
        reason:
          'Point-in-time recovery is enabled in production only; other environments hold disposable test data.',
      });
    }
  }
}
