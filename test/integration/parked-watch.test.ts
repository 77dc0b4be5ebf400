import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { watchParked } from '#local/parked-watch.ts';
import { DynamoExceptionStore } from '#shared/repositories/exceptions.ts';

/**
 * npm start's console line for parked inputs (local/parked-watch.ts), against DynamoDB Local with exceptions
 * written by the hub's own store: items kept from before the start are announced once as such; new ones give
 * one line per interval however many park, with the reason and the command that replays them.
 */
const endpoint = inject('dynamodbEndpoint');
const table = `parked-watch-${Date.now()}`;
const client = new DynamoDBClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const store = new DynamoExceptionStore(DynamoDBDocumentClient.from(client), table);

const park = (n: number, code = 'UNKNOWN_MAPPING') =>
  store.park({
    kind: 'erp-order',
    inputId: `order-${n}`,
    at: `2026-01-01T00:00:0${n % 10}.000Z`,
    code,
    reason: `no ERP mapping for item "SKU-${n}"`,
    issues: [],
    transactionId: `t-${n}`,
    attributes: {},
    payload: Buffer.from('{}'),
  });

async function until(check: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  await client.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});
afterAll(() => client.destroy());

describe('npm start: one console line when something is parked', () => {
  it('announces what was parked before the start once, then one line per interval naming the reason and the replay command', async () => {
    await park(1);
    const lines: string[] = [];
    const watch = watchParked({
      dynamodbEndpoint: endpoint,
      table,
      say: (line) => lines.push(line),
      pollMs: 50,
      intervalMs: 1_500,
      ops: 'PORT=3010 npm run -s ops --',
    });
    try {
      await until(() => lines.length === 1, 'the line about earlier items');
      expect(lines[0]).toBe(
        'omnihub: 1 input(s) still parked from before this start; list them with PORT=3010 npm run -s ops -- status',
      );
      // Three park within one interval: one line for the three, after the interval.
      await park(2);
      await park(3);
      await park(4, 'ERP_VALIDATION');
      await until(() => lines.length === 2, 'the parked line', 5_000);
      expect(lines[1]).toMatch(
        /^omnihub: PARKED 3 new: erp-order UNKNOWN_MAPPING ×2 — no ERP mapping for item "SKU-3" \(\+1 more of other kinds\)\. Replay: PORT=3010 npm run -s ops -- replay-orders --code UNKNOWN_MAPPING; details: PORT=3010 npm run -s ops -- status$/,
      );
      // Nothing new: no further line, however long it runs.
      const quietUntil = Date.now() + 2_000;
      await until(() => Date.now() > quietUntil, 'a quiet interval', 3_000);
      expect(lines).toHaveLength(2);
    } finally {
      await watch.stop();
    }
  });
});
