import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHAOS } from '#local/chaos.ts';
import { type LocalCloud, startLocalCloud } from '#local/cloud.ts';
import { cachedProbeStack } from '#local/harness/probe-stack.ts';
import type { Denial } from '#local/iam/local-iam.ts';
import { waitFor } from '#local/services/ports.ts';
import { signShopifyBody } from '#shared/connectors/shopify/webhook-signature.ts';
import { shopifyWebhookBody } from '#test/support/fixtures.ts';

/**
 * IAM in the local cloud, on the synthesized dev stack with three grants taken out of the template:
 * - the ERP sync function's role loses its statement on the idempotency table (a missing identity-based grant);
 * - the probe queue loses its queue policy (EventBridge may no longer send to it);
 * - the POS webhook function loses the AWS::Lambda::Permission of its API route.
 * Each fails locally as it would on AWS, and nothing else in the stack is refused.
 */
const SECRET = 'e2e-iam-shopify-secret';
let cloud: LocalCloud;
let sqs: SQSClient;

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

/** Removes the resources `drop` selects and lets `edit` change the others. */
function withoutGrants(assemblyDir: string, stackName: string): void {
  const file = join(assemblyDir, `${stackName}.template.json`);
  const template = JSON.parse(readFileSync(file, 'utf8')) as Template;
  const refersTo = (value: unknown, prefix: string) => JSON.stringify(value).includes(`"${prefix}`);
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const { Type: type, Properties: properties } = resource;
    if (type === 'AWS::SQS::QueuePolicy' && refersTo(properties.Queues, 'ProbeQueue')) {
      delete template.Resources[logicalId];
    }
    if (type === 'AWS::Lambda::Permission' && refersTo(properties.FunctionName, 'PosWebhookFunction')) {
      delete template.Resources[logicalId];
    }
    if (type === 'AWS::IAM::Policy' && refersTo(properties.Roles, 'ErpOrderSyncFunctionServiceRole')) {
      const document = properties.PolicyDocument as { Statement: { Resource: unknown }[] };
      document.Statement = document.Statement.filter(
        (statement) => !refersTo(statement.Resource, 'IdempotencyTable'),
      );
    }
  }
  writeFileSync(file, JSON.stringify(template));
}

async function denials(): Promise<Denial[]> {
  return ((await (await fetch(`${cloud.url}/_local/iam`)).json()) as { denials: Denial[] }).denials;
}

function functionName(prefix: string): string {
  return (
    cloud.template.ofType('AWS::Lambda::Function').find((fn) => fn.logicalId.startsWith(prefix))?.name ?? ''
  );
}

beforeAll(async () => {
  // A copy of the cached synth's template of its own: taking grants out of it leaves the cache as it is.
  const { dir: assemblyDir, stackName } = cachedProbeStack();
  withoutGrants(assemblyDir, stackName);
  cloud = await startLocalCloud({
    assemblyDir,
    stackName,
    port: 0,
    env: { OMNIHUB_SHOPIFY_SECRET: SECRET },
    chaos: { ...DEFAULT_CHAOS, seed: 33 },
  });
  sqs = new SQSClient({
    endpoint: cloud.endpoints.sqs,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  // One order through the whole stack: webhook → bus → rules → ERP queue (allowed) and probe queue (refused).
  const body = shopifyWebhookBody('orders/create');
  const response = await fetch(`${cloud.url}/webhooks/shopify`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': 'orders/create',
      'x-shopify-hmac-sha256': signShopifyBody(body, SECRET),
      'x-shopify-shop-domain': 'omnihub-dev.myshopify.com',
      'x-shopify-api-version': '2026-10',
      'x-shopify-webhook-id': 'e2e-iam-1',
    },
    body,
  });
  expect(response.status).toBe(200);
}, 180_000);

afterAll(async () => {
  sqs?.destroy();
  await cloud?.stop();
});

describe('local cloud IAM (e2e)', () => {
  it('refuses a function the call its role no longer grants, naming the action and resource', async () => {
    const erpSync = functionName('ErpOrderSyncFunction');
    await waitFor(async () => (await denials()).some((denial) => denial.functionName === erpSync), {
      timeoutMs: 30_000,
      what: 'the ERP sync to be refused the idempotency table',
    });
    const denial = (await denials()).find((candidate) => candidate.functionName === erpSync);
    const table = cloud.template
      .ofType('AWS::DynamoDB::Table')
      .find((candidate) => candidate.logicalId.startsWith('IdempotencyTable'))?.arn;
    expect(denial).toMatchObject({
      action: expect.stringMatching(/^dynamodb:(PutItem|GetItem)$/),
      resource: table,
      explicit: false,
      message: expect.stringMatching(
        new RegExp(
          `^User: arn:aws:sts::000000000000:assumed-role/.+/${erpSync} is not authorized to perform: dynamodb:\\w+ on resource: ${table} because no identity-based policy allows the dynamodb:\\w+ action$`,
        ),
      ),
    });
  });

  it('cannot deliver to a queue without its queue policy: the event goes to the target DLQ as NO_PERMISSIONS', async () => {
    const dlq = cloud.template
      .ofType('AWS::SQS::Queue')
      .find((queue) => queue.logicalId.startsWith('ProbeDeadLetter'));
    let attributes: Record<string, { StringValue?: string }> = {};
    await waitFor(
      async () => {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: dlq?.physicalId,
            MessageAttributeNames: ['All'],
            WaitTimeSeconds: 1,
          }),
        );
        attributes = Messages[0]?.MessageAttributes ?? {};
        return Messages.length > 0;
      },
      { timeoutMs: 20_000, what: 'the refused event in the probe DLQ' },
    );
    expect(attributes.ERROR_CODE?.StringValue).toBe('NO_PERMISSIONS');
    expect(attributes.RULE_ARN?.StringValue).toMatch(/:rule\/omnihub-dev\//);
    expect(await denials()).toContainEqual(
      expect.objectContaining({ principal: 'events.amazonaws.com', action: 'sqs:SendMessage' }),
    );
  });

  it('answers API Gateway 500 for a route whose function has no Lambda permission', async () => {
    const pos = functionName('PosWebhookFunction');
    const before = (
      (await (await fetch(`${cloud.url}/_local/functions`)).json()) as Record<string, { invocations: number }>
    )[pos];
    const response = await fetch(`${cloud.url}/webhooks/pos`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
    const after = (
      (await (await fetch(`${cloud.url}/_local/functions`)).json()) as Record<string, { invocations: number }>
    )[pos];
    expect(after?.invocations).toBe(before?.invocations);
    expect(await denials()).toContainEqual(
      expect.objectContaining({
        principal: 'apigateway.amazonaws.com',
        action: 'lambda:InvokeFunction',
        resource: `arn:aws:lambda:us-east-1:000000000000:function:${pos}`,
      }),
    );
  });

  it('refuses nothing else: every other call of the stack is granted by the template', async () => {
    const kinds = new Set(
      (await denials()).map(
        (denial) => `${denial.principal.split('/')[1] ?? denial.principal} ${denial.action}`,
      ),
    );
    expect([...kinds].sort()).toEqual(
      [
        'apigateway.amazonaws.com lambda:InvokeFunction',
        `${cloud.iam.model.functionRole(functionName('ErpOrderSyncFunction'))?.split('/').pop()} ${
          (await denials()).find((denial) => denial.functionName === functionName('ErpOrderSyncFunction'))
            ?.action
        }`,
        'events.amazonaws.com sqs:SendMessage',
      ].sort(),
    );
  });

  it('serves the Lambda API on the AWS endpoint (ListFunctions, DryRun) to the admin', async () => {
    const list = (await (await fetch(`${cloud.endpoints.aws}/2015-03-31/functions/`)).json()) as {
      Functions: { FunctionName: string }[];
    };
    expect(list.Functions).toHaveLength(cloud.template.ofType('AWS::Lambda::Function').length);
    const dryRun = await fetch(
      `${cloud.endpoints.aws}/2015-03-31/functions/${functionName('ProbeFunction')}/invocations`,
      { method: 'POST', headers: { 'x-amz-invocation-type': 'DryRun' }, body: '{}' },
    );
    expect(dryRun.status).toBe(204);
  });
});
