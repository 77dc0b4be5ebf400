/**
 * The delivery engine of the local EventBridge: an event that reaches a bus is archived, matched against the
 * bus's rules, and delivered in the background to every target of every enabled rule it matches — with the
 * target's input settings, retry policy (retries with back-off until MaximumRetryAttempts or
 * MaximumEventAgeInSeconds) and dead-letter queue. Scheduler schedules hand their deliveries to the same
 * engine.
 *
 * Reference: Amazon EventBridge User Guide, "Event retry policy and using dead-letter queues" (see
 * `targets.ts` for the policy's defaults and error classes).
 *
 * Permissions, as EventBridge needs them: a rule reaches an SQS target and its DLQ through the queue policy
 * (principal `events.amazonaws.com`, `aws:SourceArn` = the rule) and a Lambda target through the function's
 * resource-based policy (its `AWS::Lambda::Permission`); Step Functions and bus targets through the target's
 * `RoleArn`; a Scheduler schedule reaches everything through its execution role (User Guide, "Using resource-based
 * policies for Amazon EventBridge"; EventBridge Scheduler User Guide, "Set up the execution role").
 *
 * Lambda targets are asynchronous invocations ("EventBridge invokes Lambda asynchronously"): delivered once Lambda
 * queued the event; the function's own retries, destinations and DLQ take it from there.
 */
import type { Chaos } from '../chaos.ts';
import { abortableSleep as sleep } from '../timers.ts';
import type { Caller, LocalLogger, LocalRuntime } from '../types.ts';
import type { EventArchive } from './archive.ts';
import type { MutableCounters } from './counters.ts';
import { busNameOf, type EventBridgeEvent } from './event.ts';
import type { InputContext } from './input-transformer.ts';
import type { Rule, RuleRegistry } from './registry.ts';
import {
  type CompiledTarget,
  classifyDeliveryError,
  type DeliveryFailure,
  lambdaPayload,
  retryDelayMs,
  type TargetDeliverySettings,
} from './targets.ts';

/** Where a delivery came from: a rule (DLQ attributes RULE_ARN…) or a schedule (SCHEDULE_ARN…). */
export type DeliveryOrigin =
  | { readonly kind: 'rule'; readonly ruleArn: string }
  | {
      readonly kind: 'schedule';
      readonly scheduleArn: string;
      readonly scheduledTime: string;
      readonly executionId: string;
    };

/** One event on its way to one target, with the retry budget and the dead-letter queue of that target. */
export interface Delivery {
  /** The rule's or the schedule's target. */
  readonly target: TargetDeliverySettings;
  readonly body: string;
  /** The original event: forwarded as is to a bus target, and the DLQ message body for rule deliveries. */
  readonly event: EventBridgeEvent;
  /** Scheduler bus targets put a new event with these. */
  readonly eventBridge?: { readonly detailType: string; readonly source: string } | undefined;
  readonly ingestedAt: number;
  readonly origin: DeliveryOrigin;
  readonly hop: number;
  /** Retries already made (a delivery restored after a restart goes on counting). */
  readonly retries?: number;
}

/** What the engine is built from; the counters are shared with the rest of the bus. */
export interface DeliveryEngineOptions {
  readonly runtime: LocalRuntime;
  readonly registry: RuleRegistry;
  readonly archive: EventArchive;
  readonly counts: MutableCounters;
  readonly now: () => Date;
  /** Scale of the retry back-off: the first retry waits about this long, doubling up to 64×. */
  readonly retryBaseDelayMs: number;
  /** Duplicate and reorder deliveries, as EventBridge's at-least-once, unordered delivery allows. */
  readonly chaos?: Chaos | undefined;
}

/** A bus forwarding to a bus forwarding to …: cut a local loop instead of spinning forever. */
const MAX_BUS_HOPS = 5;

/** Matches events to rule targets and delivers them, retrying and dead-lettering as EventBridge does. */
export class DeliveryEngine {
  private readonly runtime: LocalRuntime;
  private readonly log: LocalLogger;
  private readonly registry: RuleRegistry;
  private readonly archive: EventArchive;
  private readonly counts: MutableCounters;
  private readonly now: () => Date;
  private readonly retryBaseDelayMs: number;
  private readonly chaos: Chaos | undefined;
  private readonly pending = new Set<Promise<void>>();
  /**
   * Every copy of a delivery from the moment it is spawned until it is delivered, dead-lettered or dropped, with
   * its retries so far: held back by chaos, being attempted, waiting for a retry, or abandoned by `stop()`. What
   * the local state keeps across a restart — an event PutEvents accepted is never lost by stopping the bus.
   */
  private readonly unfinished = new Map<object, { delivery: Delivery; retries: number }>();
  private retryAbort = new AbortController();

  constructor(options: DeliveryEngineOptions) {
    this.runtime = options.runtime;
    this.log = options.runtime.log;
    this.registry = options.registry;
    this.archive = options.archive;
    this.counts = options.counts;
    this.now = options.now;
    this.retryBaseDelayMs = options.retryBaseDelayMs;
    this.chaos = options.chaos;
  }

  /** Archives an event on a bus and starts a delivery per target of every enabled rule it matches. */
  ingest(busName: string, event: EventBridgeEvent, hop: number): void {
    const ingestedAt = this.now();
    const ingestionTime = ingestedAt.toISOString();
    this.archive.add({ eventBusName: busName, ingestionTime, event });
    this.counts.eventsPut += 1;
    for (const rule of this.registry.rulesOn(busName)) {
      if (rule.state === 'DISABLED' || !rule.matcher || !rule.matcher(event)) continue;
      this.counts.matchedRules += 1;
      const context: InputContext = { event, ruleArn: rule.arn, ruleName: rule.name, ingestionTime };
      for (const target of rule.targets)
        this.startRuleDelivery(rule, target, event, context, ingestedAt.getTime(), hop);
    }
  }

  /**
   * Renders the target's input for the event and starts its delivery; an unsupported target is skipped and
   * an input that cannot be rendered drops the delivery (both counted).
   */
  startRuleDelivery(
    rule: Rule,
    target: CompiledTarget,
    event: EventBridgeEvent,
    context: InputContext,
    ingestedAt: number,
    hop: number,
  ): void {
    if (target.kind === 'unsupported') {
      this.counts.unsupportedTargets += 1;
      return;
    }
    let body: string;
    try {
      body = target.kind === 'events' ? JSON.stringify(event) : target.render(context);
    } catch (error) {
      this.log.error('EventBridge: rendering a target input failed', {
        rule: rule.name,
        targetId: target.id,
        error: String(error),
      });
      this.counts.dropped += 1;
      return;
    }
    this.spawn({
      target,
      body,
      event,
      ingestedAt,
      origin: { kind: 'rule', ruleArn: rule.arn },
      hop,
    });
  }

  /**
   * Starts a delivery in the background; `idle()` waits for it. With chaos, the delivery may be made twice, and a
   * copy may be held back up to a second so that later deliveries overtake it. Each copy is unfinished from here
   * until it ends: a copy held back when the bus stops is kept for the restart, never dropped (EventBridge does not
   * lose an event it accepted).
   */
  spawn(delivery: Delivery): void {
    const chaos = this.chaos;
    const copies = chaos?.chance(chaos.duplicateRate) ? 2 : 1;
    if (copies > 1 && chaos) chaos.counters.eventDuplicates += 1;
    for (let copy = 0; copy < copies; copy += 1) {
      const holdBack = chaos?.chance(chaos.reorderRate) ? chaos.between(50, 1000) : 0;
      if (holdBack > 0 && chaos) chaos.counters.eventReorders += 1;
      // Unfinished from now on, held back or not: a snapshot taken while it waits must keep it.
      const token = {};
      this.unfinished.set(token, { delivery, retries: delivery.retries ?? 0 });
      this.track(
        delivery,
        holdBack > 0
          ? sleep(holdBack, this.retryAbort.signal).then((held) => {
              if (held) return this.deliver(delivery, token);
              this.log.warn('EventBridge: delivery held back, abandoned on stop() (kept for a restart)', {
                target: delivery.target.arn,
              });
            })
          : this.deliver(delivery, token),
      );
    }
  }

  private track(delivery: Delivery, work: Promise<void>): void {
    this.counts.deliveries += 1;
    const promise: Promise<void> = work
      .catch((error: unknown) => {
        this.log.error('EventBridge: delivery crashed', {
          target: delivery.target.arn,
          error: String(error),
        });
      })
      .finally(() => {
        this.pending.delete(promise);
      });
    this.pending.add(promise);
  }

  /**
   * Deliveries that have not ended (being attempted, waiting for a retry, or abandoned by `stop()`), with the
   * retries each has made: what the local state keeps across a restart.
   */
  unfinishedDeliveries(): { delivery: Delivery; retries: number }[] {
    return [...this.unfinished.values()].map(({ delivery, retries }) => ({ delivery, retries }));
  }

  /** Resolves once no delivery is pending or waiting to retry (deliveries started meanwhile included). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /**
   * Abandons deliveries waiting for a retry or held back by chaos (logged; they stay unfinished, so the local state
   * keeps them); deliveries already calling a target finish.
   */
  abandonRetries(): void {
    this.retryAbort.abort();
    this.retryAbort = new AbortController();
  }

  /**
   * Delivers with the target's retry policy: a retryable failure is retried with back-off until
   * MaximumRetryAttempts retries were made or the next attempt would come after MaximumEventAgeInSeconds;
   * a non-retryable one (the resource does not exist, no permission) goes straight to the end. Then the event
   * goes to the dead-letter queue, or is dropped and counted.
   */
  private async deliver(delivery: Delivery, token: object): Promise<void> {
    const signal = this.retryAbort.signal;
    let retries = delivery.retries ?? 0;
    const end = (ending?: Promise<void>) => {
      this.unfinished.delete(token);
      return ending;
    };
    for (;;) {
      let failure: DeliveryFailure;
      try {
        await this.invokeTarget(delivery);
        this.counts.delivered += 1;
        return end();
      } catch (error) {
        failure = classifyDeliveryError(error);
      }
      if (!failure.retryable) return end(this.deadLetter(delivery, failure, retries, undefined));
      if (retries >= delivery.target.maximumRetryAttempts)
        return end(this.deadLetter(delivery, failure, retries, 'MaximumRetryAttempts'));
      const delay = retryDelayMs(retries, this.retryBaseDelayMs);
      if (
        this.now().getTime() + delay - delivery.ingestedAt >
        delivery.target.maximumEventAgeSeconds * 1000
      ) {
        return end(this.deadLetter(delivery, failure, retries, 'MaximumEventAgeInSeconds'));
      }
      if (!(await sleep(delay, signal))) {
        this.log.warn('EventBridge: delivery abandoned on stop()', { target: delivery.target.arn, retries });
        return;
      }
      retries += 1;
      this.unfinished.set(token, { delivery, retries });
      this.counts.retries += 1;
    }
  }

  /** One attempt. Throws what the local service threw; resolves once the target accepted the event. */
  private async invokeTarget(delivery: Delivery): Promise<void> {
    const { target } = delivery;
    if (
      target.kind !== 'events' &&
      target.kind !== 'unsupported' &&
      !this.registry.targetExists(target.kind, target.arn)
    ) {
      // Only the template's resources exist locally. "For errors that result from … a target resource that no
      // longer exists, … EventBridge sends these events directly to the DLQ": NO_RESOURCE, not retried.
      throw notFound(`${target.arn} does not exist in the local cloud`);
    }
    switch (target.kind) {
      case 'sqs': {
        const fifo = target.arn.endsWith('.fifo');
        await this.runtime.sendMessage(target.arn, delivery.body, {
          ...(target.messageGroupId === undefined ? {} : { messageGroupId: target.messageGroupId }),
          ...(fifo ? { messageDeduplicationId: delivery.event.id } : {}),
          caller: this.callerFor(delivery),
        });
        return;
      }
      case 'lambda': {
        // EventBridge invokes Lambda asynchronously: the delivery succeeds once Lambda queued the event. A function
        // error is Lambda's to retry (its async retry settings, its own DLQ or destination), not EventBridge's;
        // only a failed Invoke call (no permission, no such function) counts as a failed delivery.
        if (this.runtime.invokeFunctionAsync) {
          await this.runtime.invokeFunctionAsync(
            target.arn,
            lambdaPayload(delivery.body),
            this.callerFor(delivery),
          );
          return;
        }
        const result = await this.runtime.invokeFunction(target.arn, lambdaPayload(delivery.body));
        if (!result.ok) {
          this.log.warn(
            'EventBridge: Lambda target returned a function error (asynchronous invocation: not retried by EventBridge)',
            {
              target: target.arn,
              errorType: result.errorType,
              errorMessage: result.errorMessage,
            },
          );
        }
        return;
      }
      case 'states':
        this.authorizeThroughRole(delivery, 'states:StartExecution', target.arn, true);
        await this.runtime.startExecution(target.arn, delivery.body);
        return;
      case 'events': {
        const busName = busNameOf(target.arn);
        if (!this.registry.hasBus(busName)) {
          throw Object.assign(new Error(`Event bus ${busName} does not exist.`), {
            name: 'ResourceNotFoundException',
          });
        }
        this.authorizeThroughRole(delivery, 'events:PutEvents', target.arn, false);
        if (delivery.hop + 1 >= MAX_BUS_HOPS) {
          throw Object.assign(new Error(`event forwarded across ${MAX_BUS_HOPS} buses; loop cut`), {
            name: 'InvalidParameter',
          });
        }
        const event: EventBridgeEvent = delivery.eventBridge
          ? {
              ...delivery.event,
              id: crypto.randomUUID(),
              source: delivery.eventBridge.source,
              'detail-type': delivery.eventBridge.detailType,
              detail: parseDetail(delivery.body),
            }
          : delivery.event;
        this.ingest(busName, event, delivery.hop + 1);
        return;
      }
      case 'unsupported':
        throw new Error(`unsupported target ${target.arn}`);
    }
  }

  /**
   * Who EventBridge is when it delivers: for a rule, the `events.amazonaws.com` service principal with the rule as
   * `aws:SourceArn` (what queue policies and Lambda permissions name); for a schedule, its execution role.
   */
  private callerFor(delivery: Delivery): Caller {
    if (delivery.origin.kind === 'rule') {
      return {
        kind: 'service',
        service: 'events.amazonaws.com',
        sourceArn: delivery.origin.ruleArn,
        sourceAccount: this.runtime.template.accountId,
      };
    }
    const roleArn = delivery.target.roleArn;
    return roleArn
      ? { kind: 'role', roleArn, sessionName: delivery.origin.scheduleArn.split('/').pop() ?? 'schedule' }
      : { kind: 'admin' };
  }

  /**
   * A target reached through the target's role (Step Functions, another bus; every Scheduler target): the role
   * must allow `action` on the target. Without a role, a target that `requiresRole` cannot be reached.
   *
   * @throws AccessDeniedException (NO_PERMISSIONS, not retried).
   */
  private authorizeThroughRole(
    delivery: Delivery,
    action: string,
    resource: string,
    requiresRole: boolean,
  ): void {
    if (!this.runtime.authorize) return;
    const roleArn = delivery.target.roleArn;
    if (!roleArn) {
      if (!requiresRole || delivery.origin.kind === 'schedule') return;
      throw Object.assign(
        new Error(`EventBridge needs a RoleArn on the target to call ${action} on ${resource}`),
        {
          name: 'AccessDeniedException',
        },
      );
    }
    this.runtime.authorize(
      { kind: 'role', roleArn, sessionName: delivery.origin.kind === 'rule' ? 'events' : 'scheduler' },
      action,
      resource,
    );
  }

  /**
   * Ends a failed delivery: to the target's DLQ with the message attributes EventBridge documents (rules:
   * RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS, and EXHAUSTED_RETRY_CONDITION when a
   * retry limit ended it; Scheduler adds SCHEDULE_ARN, SCHEDULED_TIME, EXECUTION_ID, IS_PAYLOAD_TRUNCATED),
   * or dropped when there is none.
   */
  private async deadLetter(
    delivery: Delivery,
    failure: DeliveryFailure,
    retries: number,
    exhausted: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds' | undefined,
  ): Promise<void> {
    const { target } = delivery;
    const details = {
      target: target.arn,
      code: failure.code,
      message: failure.message,
      retries,
      exhausted,
    };
    if (!target.deadLetterArn) {
      this.counts.dropped += 1;
      this.log.warn('EventBridge: delivery failed; no dead-letter queue, event dropped', details);
      return;
    }
    const attributes: Record<string, string> = {
      ERROR_CODE: failure.code,
      ERROR_MESSAGE: failure.message,
      RETRY_ATTEMPTS: String(retries),
      TARGET_ARN: target.arn,
      ...(exhausted === undefined ? {} : { EXHAUSTED_RETRY_CONDITION: exhausted }),
    };
    let body: string;
    if (delivery.origin.kind === 'rule') {
      attributes.RULE_ARN = delivery.origin.ruleArn;
      body = JSON.stringify(delivery.event);
    } else {
      attributes.SCHEDULE_ARN = delivery.origin.scheduleArn;
      attributes.SCHEDULED_TIME = delivery.origin.scheduledTime;
      attributes.EXECUTION_ID = delivery.origin.executionId;
      attributes.IS_PAYLOAD_TRUNCATED = 'false';
      body = delivery.body;
    }
    try {
      await this.runtime.sendMessage(target.deadLetterArn, body, {
        caller: this.callerFor(delivery),
        messageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
      });
      this.counts.deadLettered += 1;
      this.log.warn('EventBridge: delivery failed; event sent to the dead-letter queue', {
        ...details,
        dlq: target.deadLetterArn,
      });
    } catch (error) {
      this.counts.deadLetterFailed += 1;
      this.log.error('EventBridge: sending to the dead-letter queue failed; event lost', {
        ...details,
        dlq: target.deadLetterArn,
        error: String(error),
      });
    }
  }
}

/** An error classified as NO_RESOURCE (not retried). */
function notFound(message: string): Error {
  return Object.assign(new Error(message), { name: 'ResourceNotFoundException' });
}

function parseDetail(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  return {};
}
