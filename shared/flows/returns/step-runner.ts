import * as z from 'zod';
import type { EventPublisher } from '../../bus/publisher.ts';
import type { ExceptionStore } from '../../repositories/exceptions.ts';
import type { LedgerEntry } from '../../repositories/ledger.ts';
import type { LogSink, Telemetry } from '../../runtime/observability.ts';
import {
  completedEvent,
  dispositionEvents,
  matchReturn,
  PARK_REASONS,
  parkReturn,
  ReturnStateSchema,
  stepError,
} from './steps.ts';

/** The input of the `return-steps` task: which step, the execution's state, and the context it needs. */
export const StepInputSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('match'), state: ReturnStateSchema }),
  z.object({
    action: z.literal('park'),
    why: z.enum(PARK_REASONS),
    state: ReturnStateSchema,
    executionArn: z.string().min(1),
    taskToken: z.string().min(1).optional(),
  }),
  z.object({ action: z.literal('disposition'), state: ReturnStateSchema }),
  z.object({ action: z.literal('complete'), state: ReturnStateSchema }),
]);

export interface StepRunnerDeps {
  readonly ledger: { get(key: string): Promise<LedgerEntry | undefined> };
  readonly exceptions: ExceptionStore;
  readonly publisher: EventPublisher;
  readonly telemetry: Telemetry;
  readonly log: LogSink;
  readonly now?: () => Date;
}

/** Runs one hub-side step; hub errors leave as the step errors the state machine routes on. */
export async function runReturnStep(event: unknown, deps: StepRunnerDeps): Promise<unknown> {
  const input = StepInputSchema.parse(event);
  const now = (deps.now?.() ?? new Date()).toISOString();
  const { request } = input.state;
  const context = { returnId: request.returnId, action: input.action };
  try {
    switch (input.action) {
      case 'match': {
        const match = await matchReturn(request, deps);
        deps.log.info(match.matched ? 'return matched' : 'return not matched', { ...context, ...match });
        return match;
      }
      case 'park': {
        const parked = await parkReturn(input.state, input.why, {
          exceptions: deps.exceptions,
          executionArn: input.executionArn,
          now,
          ...(input.taskToken === undefined ? {} : { taskToken: input.taskToken }),
        });
        deps.telemetry.count('ReturnParked');
        deps.log.warn('return parked', { ...context, why: input.why, ...parked });
        return parked;
      }
      case 'disposition': {
        const events = dispositionEvents(input.state, now);
        if (events.length > 0) await deps.publisher.publish(events);
        deps.log.info('return dispositioned', { ...context, restocked: events.length });
        return { restocked: events.length };
      }
      case 'complete': {
        const event = completedEvent(input.state, now);
        await deps.publisher.publish([event]);
        deps.telemetry.count('ReturnCompleted');
        deps.log.info('return completed', context);
        return { eventId: event.detail.metadata.eventId };
      }
    }
  } catch (error) {
    throw stepError(error);
  }
}
