import { describe, expect, it } from 'vitest';
import { replayParkedReturn } from '#shared/ops/replay-return.ts';
import type { ParkedException } from '#shared/repositories/exceptions.ts';

const parked = (overrides: Partial<ParkedException> = {}): ParkedException => ({
  kind: 'return',
  sk: '2026-11-28T10:00:00.000Z#r1#ERP_FAILED',
  exceptionId: 'return/2026-11-28T10:00:00.000Z#r1#ERP_FAILED',
  inputId: 'r1#ERP_FAILED',
  status: 'PARKED',
  code: 'RETURN_ERP_FAILED',
  reason: 'ERP_UNAVAILABLE',
  attributes: { returnId: 'r1', taskToken: 'tok', executionArn: 'arn:exec' },
  replayCount: 0,
  parkedAt: '2026-11-28T10:00:00.000Z',
  payload: Buffer.from('{}'),
  ...overrides,
});

function store(item: ParkedException | undefined) {
  const marks: unknown[] = [];
  return {
    marks,
    get: async () => item,
    markReplayed: async (_kind: string, _sk: string, options: { revert?: boolean } = {}) => {
      marks.push(options.revert ? 'revert' : 'replayed');
      if (!item) return false;
      const from = options.revert ? 'REPLAYED' : 'PARKED';
      if (item.status !== from) return false;
      item = { ...item, status: options.revert ? 'PARKED' : 'REPLAYED' };
      return true;
    },
  };
}

describe('replay-return', () => {
  it('sends the parked task token back once and marks the exception replayed', async () => {
    const sent: string[] = [];
    const exceptions = store(parked());
    const deps = { exceptions, sendTaskSuccess: async (token: string) => void sent.push(token) };
    const id = parked().exceptionId;
    expect(await replayParkedReturn(deps, id)).toEqual({
      status: 'replayed',
      exceptionId: id,
      returnId: 'r1',
    });
    expect(await replayParkedReturn(deps, id)).toMatchObject({
      status: 'not-replayable',
      why: 'it is REPLAYED',
    });
    expect(sent).toEqual(['tok']);
  });

  it('refuses what has no token (the execution ended) and puts the exception back when the token cannot be sent', async () => {
    const ended = store(parked({ attributes: { returnId: 'r1', executionArn: 'arn:exec' } }));
    expect(
      await replayParkedReturn({ exceptions: ended, sendTaskSuccess: async () => {} }, parked().exceptionId),
    ).toMatchObject({ status: 'not-replayable' });
    const exceptions = store(parked());
    await expect(
      replayParkedReturn(
        {
          exceptions,
          sendTaskSuccess: async () => {
            throw new Error('TaskTimedOut');
          },
        },
        parked().exceptionId,
      ),
    ).rejects.toThrow('TaskTimedOut');
    expect(exceptions.marks).toEqual(['replayed', 'revert']);
  });
});
