import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { assertMappingPermissions, recordsToDelete } from '#local/lambda/sqs-poller.ts';
import type { InvokeResult } from '#local/types.ts';

const record = (messageId: string) => ({ messageId, receiptHandle: `rh-${messageId}` }) as SQSRecord;
const batch = [record('a'), record('b'), record('c')];
const ok = (payload: unknown): InvokeResult => ({ ok: true, payload, durationMs: 1, coldStart: false });
const ids = (records: SQSRecord[]) => records.map((r) => r.messageId);

/** Lambda developer guide, "Handling errors for an SQS event source" (partial batch responses). */
describe('recordsToDelete', () => {
  it('deletes every record after a successful invocation without batch item failures', () => {
    expect(ids(recordsToDelete(batch, ok(null), false))).toEqual(['a', 'b', 'c']);
    expect(ids(recordsToDelete(batch, ok({ batchItemFailures: [{ itemIdentifier: 'b' }] }), false))).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('keeps only the reported failures when ReportBatchItemFailures is on', () => {
    expect(ids(recordsToDelete(batch, ok({ batchItemFailures: [{ itemIdentifier: 'b' }] }), true))).toEqual([
      'a',
      'c',
    ]);
  });

  it('treats an empty list, null or a missing list as complete success', () => {
    expect(ids(recordsToDelete(batch, ok({ batchItemFailures: [] }), true))).toEqual(['a', 'b', 'c']);
    expect(ids(recordsToDelete(batch, ok(null), true))).toEqual(['a', 'b', 'c']);
    expect(ids(recordsToDelete(batch, ok({}), true))).toEqual(['a', 'b', 'c']);
    expect(ids(recordsToDelete(batch, ok({ batchItemFailures: null }), true))).toEqual(['a', 'b', 'c']);
  });

  it('fails the whole batch on an empty, unknown or malformed identifier', () => {
    expect(recordsToDelete(batch, ok({ batchItemFailures: [{ itemIdentifier: '' }] }), true)).toEqual([]);
    expect(recordsToDelete(batch, ok({ batchItemFailures: [{ itemIdentifier: 'zzz' }] }), true)).toEqual([]);
    expect(recordsToDelete(batch, ok({ batchItemFailures: 'b' }), true)).toEqual([]);
  });

  it('deletes nothing when the invocation failed: the records come back after the visibility timeout', () => {
    const failed: InvokeResult = {
      ok: false,
      errorType: 'Error',
      errorMessage: 'x',
      timedOut: false,
      durationMs: 1,
      coldStart: false,
    };
    expect(recordsToDelete(batch, failed, true)).toEqual([]);
  });
});

describe('assertMappingPermissions', () => {
  const queueArn = 'arn:aws:sqs:us-east-1:000000000000:jobs';

  it('refuses a mapping whose function role cannot read the queue, as Lambda does when it is created', () => {
    const granted = new Set(['sqs:ReceiveMessage', 'sqs:GetQueueAttributes']);
    expect(() => assertMappingPermissions('Mapping', { queueArn }, (action) => granted.has(action))).toThrow(
      'Mapping: InvalidParameterValueException: The provided execution role does not have permissions to call DeleteMessage on SQS',
    );
  });

  it('accepts a role that may receive, delete and read the attributes of the queue', () => {
    const asked: string[] = [];
    assertMappingPermissions('Mapping', { queueArn }, (action, resource) => {
      asked.push(`${action} ${resource}`);
      return true;
    });
    expect(asked).toEqual([
      `sqs:ReceiveMessage ${queueArn}`,
      `sqs:DeleteMessage ${queueArn}`,
      `sqs:GetQueueAttributes ${queueArn}`,
    ]);
  });
});
