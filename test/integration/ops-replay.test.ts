import type { Server } from 'node:http';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '#local/services/ports.ts';
import { AuditLog } from '#shared/ops/audit.ts';
import { handleOpsCommand } from '#shared/ops/ops-handler.ts';
import type { ReplayDeps } from '#shared/ops/replay.ts';
import { TraceReader, TraceWriter } from '#shared/ops/trace.ts';
import { DynamoExceptionStore } from '#shared/repositories/exceptions.ts';
import { createPkSkTable, localDynamo } from '#test/support/dynamodb.ts';

const ACCOUNT = '123456789012';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A canonical order event as the bus delivers it to a queue (the fields the ops tools read). */
const orderEvent = (transactionId: string, detailType = 'OrderCreated') =>
  JSON.stringify({
    version: '0',
    id: `evt-${transactionId}`,
    'detail-type': detailType,
    source: 'omnihub.shopify',
    time: '2026-12-01T10:00:00Z',
    detail: {
      metadata: {
        transactionId,
        idempotencyKey: `shopify#order#${transactionId}`,
        eventId: `e-${transactionId}`,
      },
      data: {},
    },
  });

describe('ops replay core (DynamoDB Local, SQS emulator)', () => {
  let dynamo: DynamoDBClient;
  let documents: DynamoDBDocumentClient;
  let traceTable: string;
  let auditTable: string;
  let exceptionsTable: string;
  let server: Server;
  let sqs: SQSClient;
  let base: string;
  const metrics: string[] = [];
  const warnings: string[] = [];
  const log = {
    info: () => {},
    warn: (message: string) => warnings.push(message),
    error: (message: string) => warnings.push(message),
  };
  const telemetry = { count: (name: string) => metrics.push(name) };

  beforeAll(async () => {
    ({ client: dynamo, document: documents } = localDynamo());
    [traceTable, auditTable, exceptionsTable] = await Promise.all([
      createPkSkTable(dynamo, 'trace'),
      createPkSkTable(dynamo, 'audit'),
      createPkSkTable(dynamo, 'exceptions'),
    ]);
    const port = await freePort();
    server = await createSqsServer({
      port,
      hostname: '127.0.0.1',
      region: 'us-east-1',
      accountId: ACCOUNT,
      queues: ['orders', 'orders-dlq', 'other', 'other-dlq'].map((QueueName) => ({ QueueName })),
    });
    base = `http://127.0.0.1:${port}/${ACCOUNT}`;
    sqs = new SQSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials });
  });

  afterAll(async () => {
    sqs.destroy();
    dynamo.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const trace = () => new TraceWriter({ documents, tableName: traceTable, service: 'test', log, telemetry });

  function deps(overrides: Partial<ReplayDeps> = {}) {
    return {
      sqs,
      // Not called by these commands: archive replay and execution redrive run in the e2e.
      events: new EventBridgeClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials }),
      sfn: new SFNClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials }),
      exceptions: new DynamoExceptionStore(documents, exceptionsTable),
      trace: trace(),
      targets: {
        queues: [
          { name: 'Orders', queueUrl: `${base}/orders`, dlqUrl: `${base}/orders-dlq` },
          { name: 'Other', queueUrl: `${base}/other`, dlqUrl: `${base}/other-dlq` },
        ],
        exceptionQueues: { 'erp-order': `${base}/orders` },
        archiveArn: 'arn:aws:events:us-east-1:123456789012:archive/a',
        busArn: 'arn:aws:events:us-east-1:123456789012:event-bus/b',
        stateMachineArns: [],
        resolvedRetentionDays: 30,
      },
      remainingMs: () => 300_000,
      audit: new AuditLog(documents, auditTable),
      log,
      requestId: 'req-1',
      ...overrides,
    };
  }

  async function drain(url: string): Promise<string[]> {
    const bodies: string[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
      );
      if (Messages.length === 0) return bodies;
      bodies.push(...Messages.map((message) => message.Body ?? ''));
    }
  }

  const visible = async (url: string) =>
    Number(
      (
        await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
        )
      ).Attributes?.ApproximateNumberOfMessages,
    );

  describe('trace', () => {
    it('reads a transaction path in order, by its id or by a vendor id it indexed', async () => {
      const writer = trace();
      await writer.checkpoint({
        transactionId: 'tx-1',
        step: 'received',
        at: '2026-12-01T10:00:00.000Z',
        refs: ['820982911946154508', 'wh-1'],
      });
      await writer.checkpoint({ transactionId: 'tx-1', step: 'published', at: '2026-12-01T10:00:00.100Z' });
      await writer.checkpoint({
        transactionId: 'tx-1',
        step: 'parked',
        at: '2026-12-01T10:00:01.000Z',
        detail: { code: 'UNKNOWN_MAPPING' },
      });
      const reader = new TraceReader(documents, traceTable);
      const direct = await reader.trace('tx-1');
      expect(direct.map((t) => t.checkpoints.map((c) => c.step))).toEqual([
        ['received', 'published', 'parked'],
      ]);
      expect(direct[0]?.checkpoints[2]?.detail).toEqual({ code: 'UNKNOWN_MAPPING' });
      const byOrder = await reader.trace('820982911946154508');
      expect(byOrder.map((t) => t.transactionId)).toEqual(['tx-1']);
      expect(await reader.trace('unknown')).toEqual([]);
    });

    it('never fails the step: a checkpoint that cannot be written is logged and counted', async () => {
      const broken = new TraceWriter({
        documents,
        tableName: 'no-such-table',
        service: 'test',
        log,
        telemetry,
      });
      await expect(broken.checkpoint({ transactionId: 'tx-x', step: 'received' })).resolves.toBeUndefined();
      expect(metrics).toContain('TraceCheckpointFailed');
      expect(warnings.some((message) => message.includes('trace checkpoint not written'))).toBe(true);
    });
  });

  describe('dlq-redrive', () => {
    it('moves only the matching messages back to the source queue, leaves the rest in the DLQ, audits it', async () => {
      for (const tx of ['tx-a', 'tx-b', 'tx-c']) {
        await sqs.send(
          new SendMessageCommand({ QueueUrl: `${base}/orders-dlq`, MessageBody: orderEvent(tx) }),
        );
      }
      const one = await handleOpsCommand(
        { command: 'dlq-redrive', actor: 'alice', queue: 'Orders', filter: { transactionId: 'tx-b' } },
        deps(),
      );
      expect(one).toMatchObject({ status: 'ok', result: { redriven: 1, notMatching: 2, complete: true } });
      expect(await drain(`${base}/orders`)).toEqual([orderEvent('tx-b')]);
      // The others were released at once, not left invisible for the run's visibility timeout.
      expect(await visible(`${base}/orders-dlq`)).toBe(2);

      const dry = await handleOpsCommand(
        { command: 'dlq-redrive', actor: 'alice', queue: 'Orders', dryRun: true },
        deps(),
      );
      expect(dry).toMatchObject({ status: 'ok', result: { wouldRedrive: 2 } });
      expect(await visible(`${base}/orders-dlq`)).toBe(2);

      const rest = await handleOpsCommand({ command: 'dlq-redrive', actor: 'bob', queue: 'Orders' }, deps());
      expect(rest).toMatchObject({ status: 'ok', result: { redriven: 2 } });
      expect((await drain(`${base}/orders`)).sort()).toEqual([orderEvent('tx-a'), orderEvent('tx-c')]);
      expect(await visible(`${base}/orders-dlq`)).toBe(0);

      const checkpoints = await new TraceReader(documents, traceTable).trace('tx-b');
      expect(checkpoints[0]?.checkpoints.map((c) => [c.step, c.detail?.via])).toEqual([
        ['replayed', 'dlq-redrive'],
      ]);
      const rows = await new AuditLog(documents, auditTable).list();
      expect(
        rows.filter((row) => row.command === 'dlq-redrive').map((row) => [row.actor, row.status]),
      ).toEqual(
        expect.arrayContaining([
          ['alice', 'SUCCEEDED'],
          ['bob', 'SUCCEEDED'],
        ]),
      );
    });

    it('refuses an unknown queue and a malformed command, before any work', async () => {
      const unknown = await handleOpsCommand(
        { command: 'dlq-redrive', actor: 'alice', queue: 'Nope' },
        deps(),
      );
      expect(unknown).toMatchObject({
        status: 'failed',
        message: expect.stringContaining("the hub's are Orders, Other"),
      });
      const malformed = await handleOpsCommand({ command: 'dlq-redrive', queue: 'Orders' }, deps());
      expect(malformed).toMatchObject({ status: 'refused', issues: [expect.stringContaining('actor')] });
    });
  });

  describe('exceptions-retry', () => {
    it('sends each parked order event back to its queue once, marks it replayed and traces it', async () => {
      const store = new DynamoExceptionStore(documents, exceptionsTable);
      for (const [tx, code] of [
        ['tx-p1', 'UNKNOWN_MAPPING'],
        ['tx-p2', 'ERP_VALIDATION'],
      ] as const) {
        await store.park({
          kind: 'erp-order',
          inputId: `shopify#order#${tx}`,
          at: '2026-12-01T10:00:00.000Z',
          code,
          reason: 'test',
          issues: [],
          transactionId: tx,
          attributes: {},
          payload: Buffer.from(orderEvent(tx)),
        });
      }
      const answer = await handleOpsCommand(
        { command: 'exceptions-retry', actor: 'carol', code: 'UNKNOWN_MAPPING' },
        deps(),
      );
      expect(answer).toMatchObject({
        status: 'ok',
        result: { replayed: [expect.stringContaining('tx-p1')] },
      });
      expect(await drain(`${base}/orders`)).toEqual([orderEvent('tx-p1')]);
      const again = await handleOpsCommand(
        { command: 'exceptions-retry', actor: 'carol', code: 'UNKNOWN_MAPPING' },
        deps(),
      );
      expect(again).toMatchObject({ status: 'ok', result: { replayed: [] } });
      expect((await store.listParked('erp-order')).map((e) => e.code)).toEqual(['ERP_VALIDATION']);
      const path = await new TraceReader(documents, traceTable).trace('tx-p1');
      expect(path[0]?.checkpoints.map((c) => c.step)).toEqual(['replayed']);
    });
  });
});
