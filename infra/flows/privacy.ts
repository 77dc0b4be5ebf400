import { Duration } from 'aws-cdk-lib';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { COMPLIANCE_DETAIL_TYPES } from '#shared/events/compliance.ts';
import { EVENT_SOURCES } from '#shared/events/envelope.ts';
import { EXCEPTION_SUBJECT_INDEX } from '#shared/repositories/exceptions.ts';
import { BufferedConsumer } from '../constructs/buffered-consumer.ts';
import { functionEntry, HubFunction } from '../constructs/hub-function.ts';
import { HubTable } from '../constructs/hub-table.ts';
import { HubFlow, type HubResources } from './hub-flow.ts';

/**
 * Adds the subject index ({@link EXCEPTION_SUBJECT_INDEX}) to the exceptions table, on the
 * CloudFormation resource rather than with `addGlobalSecondaryIndex`: CDK widens every grant on a table
 * that has an index to `<table>/index/*`, which would give each flow that only parks inputs a wildcard
 * it does not need. Only the privacy flow reads the index, and it is granted that one index by name.
 * Adding one index to an existing table is an in-place update (CloudFormation adds one per update).
 */
export function withSubjectIndex(table: HubTable): HubTable {
  const resource = table.node.defaultChild as CfnTable;
  const { indexName, partitionKey, projected } = EXCEPTION_SUBJECT_INDEX;
  resource.attributeDefinitions = [
    ...(resource.attributeDefinitions as CfnTable.AttributeDefinitionProperty[]),
    { attributeName: partitionKey, attributeType: 'S' },
  ];
  resource.globalSecondaryIndexes = [
    {
      indexName,
      keySchema: [{ attributeName: partitionKey, keyType: 'HASH' }],
      projection: { projectionType: 'INCLUDE', nonKeyAttributes: [...projected] },
    },
  ];
  return table;
}

/**
 * Privacy: Shopify's compliance requests (CustomerDataRequested, CustomerRedactionRequested,
 * ShopRedactionRequested) → queue → privacy-redaction, which reports, redacts or deletes what the hub
 * holds about the customer or shop (parked inputs) and records each request in its audit table.
 * Requests are rare and a shop's can touch many items: one per invocation, with time to finish.
 */
export class Privacy extends HubFlow {
  readonly redactionFunction: HubFunction;
  readonly queue: BufferedConsumer;
  /** One item per compliance request: what was asked, when, and what the hub found, redacted or deleted. */
  readonly requestsTable: HubTable;

  constructor(scope: Construct, id: string, hub: HubResources) {
    super(scope, id);
    const { config, tables } = hub;
    this.requestsTable = new HubTable(this, 'PrivacyRequestsTable', {
      partitionKey: 'pk',
      sortKey: 'sk',
      pointInTimeRecovery: config.pointInTimeRecovery,
      removalPolicy: config.removalPolicy,
      localRole: 'privacy-requests-table',
    });

    this.redactionFunction = new HubFunction(this, 'PrivacyRedactionFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('privacy-redaction'),
      description: "Applies Shopify's compliance requests to what the hub holds, and records each",
      serviceName: 'privacy-redaction',
      timeout: Duration.minutes(5),
      environment: {
        EXCEPTIONS_TABLE_NAME: tables.exceptions.tableName,
        LEDGER_TABLE_NAME: tables.ledger.tableName,
        PRIVACY_REQUESTS_TABLE_NAME: this.requestsTable.tableName,
      },
    });
    // Exceptions: found through the subject index (that index only), read, rewritten (payload and its
    // parts) and deleted one item at a time. Ledger: read by key for data requests. Audit: one update.
    Grant.addToPrincipal({
      grantee: this.redactionFunction,
      actions: ['dynamodb:Query'],
      resourceArns: [`${tables.exceptions.tableArn}/index/${EXCEPTION_SUBJECT_INDEX.indexName}`],
    });
    tables.exceptions.grant(
      this.redactionFunction,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    tables.ledger.grant(this.redactionFunction, 'dynamodb:GetItem');
    this.requestsTable.grant(this.redactionFunction, 'dynamodb:UpdateItem');

    this.queue = new BufferedConsumer(this, 'PrivacyRequests', {
      handler: this.redactionFunction,
      batchSize: 1,
      maxConcurrency: 2,
      removalPolicy: config.removalPolicy,
    });
    this.queue.subscribe(hub.bus, 'ComplianceToPrivacy', {
      source: [EVENT_SOURCES.shopify],
      detailType: [...COMPLIANCE_DETAIL_TYPES],
    });
  }
}
