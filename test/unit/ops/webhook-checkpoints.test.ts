import { describe, expect, it } from 'vitest';
import { answerDelivery, type DeliveryOutcome } from '#shared/ingress/webhook.ts';
import type { CheckpointInput, TraceRecorder } from '#shared/ops/trace.ts';

/** A recorder that keeps what it was given, call by call. */
function recorder() {
  const calls: CheckpointInput[][] = [];
  const trace: TraceRecorder = {
    checkpoint: async (input) => {
      calls.push([input]);
    },
    checkpoints: async (inputs) => {
      calls.push([...inputs]);
    },
  };
  return { trace, calls };
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

async function deliver(outcome: DeliveryOutcome, trace: TraceRecorder, correlated: string[] = []) {
  return answerDelivery({
    deps: {
      deduplicate: async (_delivery, work) => (outcome.duplicate ? outcome : work()),
      telemetry: { count: () => {} },
      log: quiet,
      trace,
      correlate: (id) => correlated.push(id),
    },
    key: 'shop#orders/create#e1',
    deliveryId: 'wh-1',
    raw: Buffer.from('{}'),
    context: { transactionId: 'tx-1' },
    refs: ['wh-1', '820982911946154508'],
    process: async () => outcome,
    parkConflict: async () => outcome,
  });
}

describe('webhook trace checkpoints', () => {
  it('writes received and published in one call, with the refs, in step order; the logs correlate on the transaction', async () => {
    const { trace, calls } = recorder();
    const correlated: string[] = [];
    const response = await deliver({ status: 'published', eventIds: ['e1'] }, trace, correlated);
    expect(response.statusCode).toBe(200);
    expect(correlated).toEqual(['tx-1']);
    expect(calls).toHaveLength(1);
    const [received, published] = calls[0] as [CheckpointInput, CheckpointInput];
    expect(received).toMatchObject({
      transactionId: 'tx-1',
      step: 'received',
      refs: ['wh-1', '820982911946154508'],
    });
    expect(published).toMatchObject({ transactionId: 'tx-1', step: 'published', detail: { events: 1 } });
    expect(Date.parse(received.at as string)).toBeLessThanOrEqual(Date.parse(published.at as string));
  });

  it('writes parked for a parked delivery, and only received (marked duplicate) for a duplicate', async () => {
    const parked = recorder();
    await deliver({ status: 'parked', exceptionId: 'shopify-webhook/x' }, parked.trace);
    expect(parked.calls.flat().map((c) => c.step)).toEqual(['received', 'parked']);
    const duplicate = recorder();
    await deliver({ status: 'published', eventIds: ['e1'], duplicate: true }, duplicate.trace);
    expect(duplicate.calls.flat()).toEqual([
      expect.objectContaining({ step: 'received', detail: { deliveryId: 'wh-1', duplicate: true } }),
    ]);
  });
});
