import type { DynamoExceptionStore } from '../repositories/exceptions.ts';
import { parseExceptionId } from './dismiss-exception.ts';

/**
 * Replays a return parked by the omnichannel-return workflow's ERP step (`ParkErpUntilReplay`): the
 * execution waits on a task token kept on the exception (`attributes.taskToken`); sending it back
 * (`SendTaskSuccess`) makes the workflow try the credit memo again — the Shopify refund is not repeated.
 * Marked REPLAYED first (conditional on PARKED: two operators cannot both replay it), reverted when the
 * token could not be sent.
 */
export interface ReplayReturnDeps {
  readonly exceptions: Pick<DynamoExceptionStore, 'get' | 'markReplayed'>;
  readonly sendTaskSuccess: (taskToken: string, output: string) => Promise<void>;
}

export type ReplayReturnResult =
  | { readonly status: 'replayed'; readonly exceptionId: string; readonly returnId: string }
  | { readonly status: 'not-replayable'; readonly exceptionId: string; readonly why: string };

export async function replayParkedReturn(
  deps: ReplayReturnDeps,
  exceptionId: string,
): Promise<ReplayReturnResult> {
  const { kind, sk } = parseExceptionId(exceptionId);
  const parked = await deps.exceptions.get(kind, sk);
  const refuse = (why: string): ReplayReturnResult => ({ status: 'not-replayable', exceptionId, why });
  if (!parked) return refuse('no such exception');
  if (parked.kind !== 'return') return refuse(`a ${parked.kind} exception, not a parked return`);
  if (parked.status !== 'PARKED') return refuse(`it is ${parked.status}`);
  const taskToken = parked.attributes.taskToken;
  if (!taskToken) {
    return refuse(
      `${parked.code}: its execution ended (${parked.attributes.executionArn ?? 'unknown'}); start the return again`,
    );
  }
  if (!(await deps.exceptions.markReplayed(kind, sk))) return refuse('another replay took it');
  try {
    await deps.sendTaskSuccess(taskToken, JSON.stringify({ replayedExceptionId: exceptionId }));
  } catch (error) {
    await deps.exceptions.markReplayed(kind, sk, { revert: true });
    throw error;
  }
  return { status: 'replayed', exceptionId, returnId: parked.attributes.returnId ?? '' };
}
