import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import { templateApp } from '#test/support/cdk.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

/**
 * Actions AWS documents as supporting no resource-level permissions, the only ones a policy may grant
 * on `*` (Service Authorization Reference, "Resource types" column empty for each):
 */
const WILDCARD_ONLY_ACTIONS: Readonly<Record<string, string>> = {
  // AWS X-Ray: PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets.
  'xray:PutTraceSegments': 'X-Ray',
  'xray:PutTelemetryRecords': 'X-Ray',
  'xray:GetSamplingRules': 'X-Ray',
  'xray:GetSamplingTargets': 'X-Ray',
  // CloudWatch Logs vended log delivery, used by Step Functions' and Lambda's log delivery
  // ("Logging using CloudWatch Logs", Step Functions Developer Guide: IAM policies for CloudWatch Logs).
  'logs:CreateLogDelivery': 'log delivery',
  'logs:GetLogDelivery': 'log delivery',
  'logs:UpdateLogDelivery': 'log delivery',
  'logs:DeleteLogDelivery': 'log delivery',
  'logs:ListLogDeliveries': 'log delivery',
  'logs:PutResourcePolicy': 'log delivery',
  'logs:DescribeResourcePolicies': 'log delivery',
  'logs:DescribeLogGroups': 'log delivery',
  // Step Functions callbacks: SendTaskSuccess, SendTaskFailure (list_awsstepfunctions.html: no resource type).
  'states:SendTaskSuccess': 'task token callbacks',
  'states:SendTaskFailure': 'task token callbacks',
};

describe('least privilege (prod template)', () => {
  let template: Template;
  let statementsByRole: Map<string, Statement[]>;

  beforeAll(() => {
    template = Template.fromStack(buildApp(templateApp({ env: 'prod' })).stack);
    statementsByRole = new Map();
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const role of policy.Properties.Roles as { Ref: string }[]) {
        const list = statementsByRole.get(role.Ref) ?? [];
        list.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
        statementsByRole.set(role.Ref, list);
      }
    }
  }, 120_000);

  /** Every statement of the role of the function whose logical id starts with `prefix`. */
  function statementsOf(prefix: string): Statement[] {
    const [id, fn] =
      Object.entries(template.findResources('AWS::Lambda::Function')).find(([logicalId]) =>
        logicalId.startsWith(prefix),
      ) ?? [];
    if (!id || !fn) throw new Error(`no function ${prefix}*`);
    const role = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    return statementsByRole.get(role) ?? [];
  }

  it('grants no wildcard resource except for the actions AWS documents as needing one', () => {
    // A state machine's Lambda tasks may invoke the task function's versions (`<function arn>:*`), which
    // CDK's LambdaInvoke grants beside the function: one function, not a wildcard over functions.
    const functionVersions = (statement: Statement) =>
      [statement.Action].flat().every((action) => action === 'lambda:InvokeFunction') &&
      [statement.Resource]
        .flat()
        .every(
          (resource) =>
            !JSON.stringify(resource).includes('*') || /"Arn"\]\},":\*"\]/.test(JSON.stringify(resource)),
        );
    const wildcards = [...statementsByRole.values()]
      .flat()
      .filter(
        (statement) => JSON.stringify(statement.Resource).includes('*') && !functionVersions(statement),
      );
    const offending = wildcards
      // An execution's ARN is known only once it runs: RedriveExecution is granted on the executions of
      // one state machine (`execution:<name>:*`, CDK's grantExecution), not on `*`.
      .filter(
        (statement) =>
          !(
            [statement.Action].flat().every((action) => action === 'states:RedriveExecution') &&
            /:execution:[^*]+:\*/.test(JSON.stringify(statement.Resource))
          ),
      )
      // The price function's schedules are named per transition instant at run time: a wildcard within
      // its own schedule group only (checked in the price function's test below).
      .filter(
        (statement) =>
          !(
            [statement.Action].flat().every((action) => action.startsWith('scheduler:')) &&
            JSON.stringify(statement.Resource).endsWith(':schedule/Omnihub-prod-prices/*"]]}')
          ),
      )
      .flatMap((statement) => [statement.Action].flat())
      .filter((action) => !Object.hasOwn(WILDCARD_ONLY_ACTIONS, action));
    expect(offending).toEqual([]);
  });

  it('gives each function exactly the actions its code calls', () => {
    const actionsOf = (prefix: string) =>
      [...new Set(statementsOf(prefix).flatMap((statement) => [statement.Action].flat()))].sort();
    // shopify-webhook: PutEvents; Powertools idempotency (Get/Put/Update/DeleteItem); park (PutItem); trace
    // checkpoints (BatchWriteItem on the trace table);
    // the webhook secret (GetSecretValue via Powertools parameters); X-Ray; kms:Decrypt on the hub key
    // (prod's example config is customer-managed: DynamoDB decrypts the table key on the caller's behalf).
    expect(actionsOf('ShopifyWebhookFunction')).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'events:PutEvents',
      'kms:Decrypt',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // erp-order-sync adds trace checkpoints (BatchWriteItem), the ledger and mappings reads and SQS ChangeMessageVisibility/GetQueueUrl
    // (VisibilityBackoff) and the event source mapping's receive/delete.
    expect(actionsOf('ErpOrderSyncFunction')).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'kms:Decrypt',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // pos-sweep: PutEvents (omnihub.pos); the capture markers (Get/UpdateItem) and its cursor (Get/PutItem);
    // park (PutItem); the Square token; X-Ray; the hub key for the tables. No idempotency table: the markers
    // and business keys do it.
    expect(actionsOf('PosSweepFunction')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'events:PutEvents',
      'kms:Decrypt',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // inventory-erp-changes: PutEvents (omnihub.erp); its cursor (Get/UpdateItem); the NetSuite credentials;
    // X-Ray; the hub key for the table. Nothing else: no exceptions, no idempotency (the cursor does it).
    expect(actionsOf('InventoryErpChangesFunction')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'events:PutEvents',
      'kms:Decrypt',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // inventory-projector: positions and markers (TransactGet/TransactWrite → Get/PutItem per item), a SKU's
    // positions with Shopify committed stock (Query), mappings (GetItem), park (PutItem); SendMessage to the
    // availability queues with the hub key's GenerateDataKey and Decrypt (an SSE-KMS producer); its own
    // queue's event source mapping and VisibilityBackoff actions.
    expect(actionsOf('InventoryProjectorFunction')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // finance-collector: PutEvents (omnihub.shopify, omnihub.pos), the shops' payout tokens and the Square
    // payments token; nothing in DynamoDB (every run republishes its window; the poster is idempotent).
    expect(actionsOf('FinanceCollectorFunction')).toEqual([
      'events:PutEvents',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // finance-poster: booked orders (GetItem), postings (Get/UpdateItem), idempotency (Get/Put/Update/Delete),
    // park (PutItem), the NetSuite credentials, its queue.
    expect(actionsOf('FinancePosterFunction')).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'kms:Decrypt',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // shopify-inventory-publisher (one per shop): positions (BatchGetItem; TransactGet → GetItem; TransactWrite
    // → PutItem), the location mappings (Query), the shop's Admin token, its queue.
    expect(actionsOf('ShopifyInventoryPublisher')).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'kms:Decrypt',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // ops-replay: the audit rows (Put/UpdateItem), trace checkpoints (BatchWriteItem), parked exceptions (Query,
    // GetItem, UpdateItem to mark them replayed); every consumer's DLQ (receive, release, delete, depth) and
    // queue (send, depth) with the hub key (Decrypt; GenerateDataKey to send); StartReplay on the archive;
    // ListExecutions and RedriveExecution on each Standard state machine, when the stack has one.
    const standardMachines = Object.values(template.findResources('AWS::StepFunctions::StateMachine')).filter(
      (machine) => machine.Properties.StateMachineType !== 'EXPRESS',
    );
    expect(actionsOf('OpsReplayFunction')).toEqual(
      [
        'dynamodb:BatchWriteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'events:StartReplay',
        'kms:Decrypt',
        'kms:GenerateDataKey',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
        ...(standardMachines.length ? ['states:ListExecutions', 'states:RedriveExecution'] : []),
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    // reconciler: its runs (PutItem, BatchWriteItem); parked order events (Query); the POS capture markers
    // (GetItem, UpdateItem); the location mappings (Query); the projection (Scan); the price books
    // (BatchGetItem); re-publishing as the ingresses; the shops', Square's and NetSuite's secrets; the
    // availability queues (SendMessage).
    expect(actionsOf('ReconcilerFunction')).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
      'events:PutEvents',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'sqs:SendMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // square-inventory-publisher: the same positions and location mappings, the Square token, its queue.
    expect(actionsOf('SquareInventoryPublisher')).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'kms:Decrypt',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // The only secret it reads is the Square access token.
    const secrets = statementsOf('SquareInventoryPublisher')
      .filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'))
      .map((statement) => JSON.stringify(statement.Resource));
    expect(secrets).toHaveLength(1);
    expect(secrets[0]).toContain('SquareAccessToken');
    // catalog-prices: price books and due lists (Get/Put/Query/BatchWriteItem), its publish lease (Put/DeleteItem),
    // park (PutItem); schedules of
    // its group (Create/DeleteSchedule) and PassRole for their execution role; the shops' Admin tokens; its
    // queue; the hub key.
    expect(actionsOf('CatalogPricesFunction')).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'iam:PassRole',
      'kms:Decrypt',
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // catalog-price-feed: as the on-hand poller — PutEvents (omnihub.erp), its cursor, the NetSuite credentials.
    expect(actionsOf('CatalogPriceFeedFunction')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'events:PutEvents',
      'kms:Decrypt',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  it('lets the price function manage its own schedule group only, passing only the price schedules’ role, which may only send to the price queue', () => {
    const prices = statementsOf('CatalogPricesFunction');
    const scheduler = prices.filter((s) => [s.Action].flat().some((a) => a.startsWith('scheduler:')));
    expect(scheduler).toHaveLength(1);
    expect(JSON.stringify(scheduler[0]?.Resource)).toContain(':schedule/Omnihub-prod-prices/*');
    const groups = Object.values(template.findResources('AWS::Scheduler::ScheduleGroup'));
    expect(groups.map((g) => g.Properties.Name)).toEqual(['Omnihub-prod-prices']);
    const passRole = prices.filter((s) => [s.Action].flat().includes('iam:PassRole'));
    expect(passRole.map((s) => s.Resource)).toEqual([
      { 'Fn::GetAtt': [expect.stringMatching(/^PriceSchedulerRole/), 'Arn'] },
    ]);
    const roleId = (passRole[0]?.Resource as { 'Fn::GetAtt': [string] } | undefined)?.['Fn::GetAtt'][0] ?? '';
    const role = template.findResources('AWS::IAM::Role')[roleId];
    expect(JSON.stringify(role?.Properties.AssumeRolePolicyDocument)).toContain('scheduler.amazonaws.com');
    const roleStatements = statementsByRole.get(roleId) ?? [];
    const actions = roleStatements.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 'sqs:SendMessage']);
    const send = roleStatements.find((s) => [s.Action].flat().includes('sqs:SendMessage'));
    expect(JSON.stringify(send?.Resource)).toMatch(/PriceEventsQueue/);
    // The function's environment names that group, that role and that queue.
    const [, fn] =
      Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) =>
        id.startsWith('CatalogPricesFunction'),
      ) ?? [];
    const env = fn?.Properties.Environment.Variables;
    expect(env.SCHEDULE_GROUP_NAME).toBe('Omnihub-prod-prices');
    expect(JSON.stringify(env.SCHEDULER_ROLE_ARN)).toContain(roleId);
    expect(JSON.stringify(env.PRICE_QUEUE_ARN)).toMatch(/PriceEventsQueue/);
    // Both shops of the prod example, each with its Admin token secret (the inventory publisher's).
    const shops = JSON.stringify(env.PRICE_SHOPS);
    expect(shops).toContain('example-retailer-prod.myshopify.com');
    expect(shops).toContain('example-retailer-prod-eu.myshopify.com');
    expect(shops.match(/ShopifyAdminToken/g)).toHaveLength(2);
  });

  it('lets EventBridge Scheduler invoke the POS sweep, the ERP change-feed poller, the reconciler, the finance collector and the price feed, each its own', () => {
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    expect(schedules).toHaveLength(5);
    const targets = schedules.map(
      (schedule) => schedule.Properties.Target as { Arn: unknown; RoleArn: { 'Fn::GetAtt': [string] } },
    );
    for (const fn of [
      'PosSweepFunction',
      'InventoryErpChangesFunction',
      'ReconcilerFunction',
      'FinanceCollectorFunction',
      'CatalogPriceFeedFunction',
    ]) {
      const target = targets.find((t) => JSON.stringify(t.Arn).includes(fn));
      if (!target) throw new Error(`no schedule invokes ${fn}`);
      const statements = statementsByRole.get(target.RoleArn['Fn::GetAtt'][0]) ?? [];
      expect(statements.map((statement) => [statement.Action, JSON.stringify(statement.Resource)])).toEqual([
        ['lambda:InvokeFunction', expect.stringContaining(fn)],
      ]);
    }
  });

  it('runs one ERP poller, one Shopify inventory publisher per shop (one cost pacer each), one Square publisher, and price writers in turn', () => {
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
    const reserved = (prefix: string) =>
      functions
        .filter(([id]) => id.startsWith(prefix))
        .map(([, fn]) => fn.Properties.ReservedConcurrentExecutions);
    expect(reserved('InventoryErpChangesFunction')).toEqual([1]);
    expect(reserved('CatalogPriceFeedFunction')).toEqual([1]);
    // The price function is bounded by its event source mapping (MaximumConcurrency 2), not by a reserved
    // concurrency below it (the mapping's second poller would be throttled); its instances take turns
    // publishing under a lease.
    expect(reserved('CatalogPricesFunction')).toEqual([undefined]);
    const priceMappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
      (mapping) => JSON.stringify(mapping.Properties.FunctionName).includes('CatalogPricesFunction'),
    );
    expect(priceMappings.map((mapping) => mapping.Properties.ScalingConfig)).toEqual([
      { MaximumConcurrency: 2 },
    ]);
    // The prod example has two shops.
    expect(reserved('ShopifyInventoryPublisher')).toEqual([1, 1]);
    expect(reserved('SquareInventoryPublisher')).toEqual([1]);
    const publisherEnv = functions
      .filter(([id]) => id.startsWith('ShopifyInventoryPublisher'))
      .map(([, fn]) => fn.Properties.Environment.Variables);
    expect(publisherEnv.map((v) => v.SHOPIFY_ADMIN_BASE_URL).sort()).toEqual([
      'https://example-retailer-prod-eu.myshopify.com',
      'https://example-retailer-prod.myshopify.com',
    ]);
    expect(new Set(publisherEnv.map((v) => JSON.stringify(v.SHOPIFY_ACCESS_TOKEN_SECRET_ID))).size).toBe(2);
  });

  it('gives the origin-verify authorizer (behind WAF) its secret and X-Ray only', () => {
    const actions = [
      ...new Set(statementsOf('WebhookApiEdgeOriginVerifyFunction').flatMap((s) => [s.Action].flat())),
    ];
    expect(actions.sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  it('confines each writer of a shared table to its own partitions', () => {
    const leadingKeys = (prefix: string, table: string) =>
      statementsOf(prefix)
        .filter((statement) => JSON.stringify(statement.Resource).includes(table))
        .map((statement) => statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']);
    expect(leadingKeys('ShopifyWebhookFunction', 'IdempotencyTable')).toEqual([['shopify-webhook#*']]);
    expect(leadingKeys('PosWebhookFunction', 'IdempotencyTable')).toEqual([['pos-webhook#*']]);
    expect(leadingKeys('ErpOrderSyncFunction', 'IdempotencyTable')).toEqual([['erp-order-sync#*']]);
    expect(leadingKeys('PosWebhookFunction', 'LedgerTable')).toEqual([['POSORDER#*']]);
    expect(leadingKeys('ErpOrderSyncFunction', 'LedgerTable')).toEqual([['ORDER#*']]);
    expect(leadingKeys('PosSweepFunction', 'LedgerTable')).toEqual([['POSORDER#*'], ['POSSWEEP#*']]);
    // finance-poster: reads booked orders (GetItem only), writes its postings, its own idempotency records.
    expect(leadingKeys('FinancePosterFunction', 'LedgerTable')).toEqual([['ORDER#*'], ['FINANCE#*']]);
    expect(leadingKeys('FinancePosterFunction', 'IdempotencyTable')).toEqual([['finance-poster#*']]);
    const posterOrders = statementsOf('FinancePosterFunction').filter((statement) =>
      JSON.stringify(statement.Condition ?? {}).includes('ORDER#'),
    );
    expect(posterOrders.flatMap((statement) => [statement.Action].flat())).toEqual(['dynamodb:GetItem']);
    expect(leadingKeys('InventoryErpChangesFunction', 'InventoryTable')).toEqual([['FEED#*']]);
    // The projector reads, the Shopify publishers write, the inventory item → SKU pairs (SHOPIFYITEM#);
    // the projector's Query (committed stock) stays in the SKU partitions too.
    expect(leadingKeys('InventoryProjectorFunction', 'InventoryTable')).toEqual([
      ['SKU#*'],
      ['SKU#*'],
      ['SHOPIFYITEM#*'],
    ]);
    expect(leadingKeys('ShopifyInventoryPublisher', 'InventoryTable')).toEqual([
      ['SKU#*'],
      ['SHOPIFYITEM#*'],
    ]);
    expect(leadingKeys('ShopifyInventoryPublisher', 'MappingsTable')).toEqual([['MAP#location*']]);
    // The reconciler reads price books only (BatchGetItem), nothing else of the catalog table.
    expect(leadingKeys('ReconcilerFunction', 'CatalogTable')).toEqual([['PRICEBOOK#*']]);
    expect(leadingKeys('CatalogPricesFunction', 'CatalogTable')).toEqual([
      ['PRICEBOOK#*', 'PRICEDUE#*'],
      ['PRICELEASE#*'],
    ]);
    expect(leadingKeys('CatalogPriceFeedFunction', 'CatalogTable')).toEqual([['FEED#erp-price*']]);
    expect(leadingKeys('ReturnStepsFunction', 'LedgerTable')).toEqual([['ORDER#*']]);
    expect(leadingKeys('SquareInventoryPublisher', 'InventoryTable')).toEqual([['SKU#*']]);
    expect(leadingKeys('SquareInventoryPublisher', 'MappingsTable')).toEqual([['MAP#location*']]);
    const sweepLedger = statementsOf('PosSweepFunction').filter((statement) =>
      JSON.stringify(statement.Condition ?? {}).includes('POSSWEEP#'),
    );
    expect(sweepLedger.flatMap((statement) => [statement.Action].flat()).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
    ]);
  });

  it('lets each publisher put only its own source, and denies PutEvents to every other principal', () => {
    const putEvents = (prefix: string) =>
      statementsOf(prefix).filter((statement) => [statement.Action].flat().includes('events:PutEvents'));
    expect(putEvents('ShopifyWebhookFunction').map((statement) => statement.Condition)).toEqual([
      { StringEquals: { 'events:source': 'omnihub.shopify' } },
    ]);
    expect(putEvents('PosWebhookFunction').map((statement) => statement.Condition)).toEqual([
      { StringEquals: { 'events:source': 'omnihub.pos' } },
    ]);
    expect(putEvents('PosSweepFunction').map((statement) => statement.Condition)).toEqual([
      { StringEquals: { 'events:source': 'omnihub.pos' } },
    ]);
    expect(putEvents('ErpOrderSyncFunction')).toEqual([]);
    const [busPolicy] = Object.values(template.findResources('AWS::Events::EventBusPolicy'));
    const statement = busPolicy?.Properties.Statement as Statement;
    expect(statement).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'events:PutEvents' });
    const publishers = statement.Condition?.ArnNotEquals?.['aws:PrincipalArn'] as unknown[];
    expect(JSON.stringify(publishers)).toContain('ShopifyWebhookFunctionServiceRole');
    expect(JSON.stringify(publishers)).toContain('PosWebhookFunctionServiceRole');
    expect(JSON.stringify(publishers)).toContain('PosSweepFunctionServiceRole');
    expect(putEvents('InventoryErpChangesFunction').map((statement) => statement.Condition)).toEqual([
      { StringEquals: { 'events:source': 'omnihub.erp' } },
    ]);
    expect(JSON.stringify(publishers)).toContain('InventoryErpChangesFunctionServiceRole');
    // The reconciler heals by re-publishing as the ingress that missed the order: both sources, nothing else.
    expect(putEvents('ReconcilerFunction').map((statement) => statement.Condition)).toEqual([
      { StringEquals: { 'events:source': 'omnihub.shopify' } },
      { StringEquals: { 'events:source': 'omnihub.pos' } },
    ]);
    expect(JSON.stringify(publishers)).toContain('ReconcilerFunctionServiceRole');
    // The finance collector publishes payouts (omnihub.shopify) and store takings (omnihub.pos), nothing else.
    expect(
      putEvents('FinanceCollectorFunction')
        .map((statement) => JSON.stringify(statement.Condition))
        .sort(),
    ).toEqual([
      JSON.stringify({ StringEquals: { 'events:source': 'omnihub.pos' } }),
      JSON.stringify({ StringEquals: { 'events:source': 'omnihub.shopify' } }),
    ]);
    expect(JSON.stringify(publishers)).toContain('FinanceCollectorFunctionServiceRole');
    // The collector is named once per source it may put.
    expect(putEvents('CatalogPriceFeedFunction').map((statement) => statement.Condition)).toEqual([
      { StringEquals: { 'events:source': 'omnihub.erp' } },
    ]);
    expect(putEvents('CatalogPricesFunction')).toEqual([]);
    expect(JSON.stringify(publishers)).toContain('CatalogPriceFeedFunctionServiceRole');
    expect(new Set(publishers.map((p) => JSON.stringify(p))).size).toBe(10);
    // bopis-tasks publishes PickupCancelled (omnihub.hub) and nothing else.
    expect(putEvents('BopisTasksFunction').map((statement) => statement.Condition)).toEqual([
      { StringEquals: { 'events:source': 'omnihub.hub' } },
    ]);
    expect(JSON.stringify(publishers)).toContain('BopisTasksFunctionServiceRole');
    // The omnichannel-return workflow: ReturnRequested (trigger), InventoryAdjusted and ReturnCompleted (steps).
    for (const fn of ['ReturnTriggerFunction', 'ReturnStepsFunction']) {
      expect(putEvents(fn).map((statement) => statement.Condition)).toEqual([
        { StringEquals: { 'events:source': 'omnihub.hub' } },
      ]);
      expect(JSON.stringify(publishers)).toContain(`${fn}ServiceRole`);
    }
  });
});

describe('webhook edge (prod template)', () => {
  const template = () => Template.fromStack(buildApp(templateApp({ env: 'prod' })).stack);

  it('throttles each webhook route on its own and alarms on the share of 4xx answers', () => {
    const prod = template();
    prod.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: {
        'POST /webhooks/shopify': { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
        'POST /webhooks/pos': { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
      },
    });
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '4xx',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 50,
    });
  }, 120_000);
});
