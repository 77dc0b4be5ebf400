import * as z from 'zod';

/**
 * The ops replay Lambda's command (`functions/ops-replay`): a typed JSON document, as an operator sends it
 * with `npm run -s ops -- …` or `aws lambda invoke --payload`. Anything else is refused before any work.
 */
const isoTime = z.iso.datetime({ offset: true });

/** Who asks: the CLI sends `--actor` or the caller's AWS identity (STS GetCallerIdentity ARN). */
const actor = z.string().min(1).max(200);

/** A message's filter: all of the given conditions must hold. */
export const DlqFilterSchema = z.strictObject({
  transactionId: z.string().min(1).optional(),
  detailType: z.string().min(1).optional(),
  /** Sent to the DLQ at or after (UTC ISO-8601). */
  from: isoTime.optional(),
  /** Sent to the DLQ before. */
  to: isoTime.optional(),
});
export type DlqFilter = z.infer<typeof DlqFilterSchema>;

export const OpsCommandSchema = z.discriminatedUnion('command', [
  /** The DLQs the hub has, with their depth. */
  z.strictObject({ command: z.literal('dlq-list'), actor }),
  /** Up to `max` messages of one DLQ, without taking them (they are visible again at once). */
  z.strictObject({
    command: z.literal('dlq-show'),
    actor,
    queue: z.string().min(1),
    max: z.number().int().min(1).max(100).default(10),
  }),
  /** Moves the DLQ's messages (all, or those matching `filter`) back to its source queue. */
  z.strictObject({
    command: z.literal('dlq-redrive'),
    actor,
    queue: z.string().min(1),
    filter: DlqFilterSchema.default({}),
    /** At most this many messages in one invocation (run again for the rest). */
    max: z.number().int().min(1).max(10_000).default(1000),
    dryRun: z.boolean().default(false),
  }),
  /** Replays the bus archive's events of [from, to) onto the bus (EventBridge StartReplay). */
  z.strictObject({
    command: z.literal('archive-replay'),
    actor,
    from: isoTime,
    to: isoTime,
  }),
  /** Retries parked exceptions after their cause was fixed. */
  z.strictObject({
    command: z.literal('exceptions-retry'),
    actor,
    kind: z.literal('erp-order').default('erp-order'),
    code: z.string().min(1).optional(),
    exceptionIds: z.array(z.string().min(1)).max(1000).optional(),
  }),
  /** Redrives failed, timed-out or aborted Standard executions (Step Functions RedriveExecution). */
  z.strictObject({
    command: z.literal('execution-redrive'),
    actor,
    /** State machine names or ARNs; @default every state machine of the hub */
    stateMachines: z.array(z.string().min(1)).optional(),
    executionArns: z.array(z.string().min(1)).max(100).optional(),
    /** Executions stopped at or after. */
    since: isoTime.optional(),
  }),
]);
export type OpsCommand = z.infer<typeof OpsCommandSchema>;
export type OpsCommandInput = z.input<typeof OpsCommandSchema>;
