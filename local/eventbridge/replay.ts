/**
 * Replays of the local EventBridge: StartReplay, DescribeReplay, ListReplays and CancelReplay over the
 * template's archives.
 *
 * As the API Reference describes them: a replay resends the events of one archive whose `time` lies in
 * [EventStartTime, EventEndTime] to the archive's own bus ("You can replay events only to the event bus
 * specified to create the archive"), in one-minute slices of event time, oldest slice first; it goes through
 * STARTING → RUNNING → COMPLETED, or CANCELLING → CANCELLED after CancelReplay, or FAILED;
 * `EventLastReplayedTime` is the event time reached. A replayed event carries a `replay-name` field with the
 * replay's name ("Replaying archived events", User Guide) and goes only to the rules in
 * `Destination.FilterArns` — to every rule of the bus when there are none — that it matches; it crosses the
 * bus like any event, so it is in the journal and in every archive whose pattern it matches (an archive
 * pattern with `"replay-name": [{"exists": false}]` leaves replays out, as on AWS).
 *
 * Reference: Amazon EventBridge API Reference (`StartReplay`, `DescribeReplay`, `ListReplays`,
 * `CancelReplay`, `Replay`, `ReplayDestination`).
 */
import { AwsServiceError } from '../aws/json-protocol.ts';
import type { LocalLogger } from '../types.ts';
import { type ArchiveDefinition, archiveContents, type EventArchive } from './archive.ts';
import type { DeliveryEngine } from './delivery.ts';
import type { EventBridgeEvent } from './event.ts';
import type { RuleRegistry } from './registry.ts';

export type ReplayState = 'STARTING' | 'RUNNING' | 'CANCELLING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';

/** One replay as the local state keeps it (dates as epoch milliseconds). */
export interface ReplayRecord {
  readonly name: string;
  readonly arn: string;
  readonly description?: string | undefined;
  readonly eventSourceArn: string;
  readonly destination: { readonly Arn: string; readonly FilterArns?: readonly string[] | undefined };
  readonly eventStartTime: number;
  readonly eventEndTime: number;
  state: ReplayState;
  stateReason: string;
  eventLastReplayedTime?: number | undefined;
  readonly replayStartTime: number;
  replayEndTime?: number | undefined;
}

/** StartReplay's request, after JSON parsing (times are epoch seconds, as the SDK sends them). */
export interface StartReplayRequest {
  readonly ReplayName: string;
  readonly Description?: string | undefined;
  readonly EventSourceArn: string;
  readonly EventStartTime: number;
  readonly EventEndTime: number;
  readonly Destination: { readonly Arn: string; readonly FilterArns?: string[] | undefined };
}

/** At most this many replays are STARTING, RUNNING or CANCELLING at once (EventBridge quotas: 10 concurrent replays). */
const MAX_ACTIVE_REPLAYS = 10;
const MINUTE = 60_000;
const ACTIVE: readonly ReplayState[] = ['STARTING', 'RUNNING', 'CANCELLING'];

/** What a replay needs from the bus. */
export interface ReplayPorts {
  readonly region: string;
  readonly accountId: string;
  readonly registry: RuleRegistry;
  readonly journal: EventArchive;
  readonly delivery: DeliveryEngine;
  readonly log: LocalLogger;
  now(): Date;
}

/** The replays of one local EventBridge. */
export class Replays {
  private readonly replays = new Map<string, ReplayRecord>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly ports: ReplayPorts) {}

  /**
   * StartReplay: validates as EventBridge does, records the replay as STARTING and runs it in the background.
   *
   * @throws AwsServiceError ResourceNotFoundException (no such archive, or a filter rule that does not exist),
   *   ResourceAlreadyExistsException (the name is taken), ValidationException (start after end, a bus other
   *   than the archive's), LimitExceededException (10 replays active).
   */
  start(request: StartReplayRequest): {
    ReplayArn: string;
    State: ReplayState;
    StateReason: string;
    ReplayStartTime: number;
  } {
    const archiveName = request.EventSourceArn.split(':archive/')[1] ?? '';
    const archive = this.ports.registry.requireArchive(archiveName);
    if (archive.arn !== request.EventSourceArn) {
      throw new AwsServiceError('ResourceNotFoundException', `Archive ${archiveName} does not exist.`);
    }
    if (this.replays.has(request.ReplayName)) {
      throw new AwsServiceError(
        'ResourceAlreadyExistsException',
        `Replay ${request.ReplayName} already exists.`,
      );
    }
    if (request.EventStartTime >= request.EventEndTime) {
      throw new AwsServiceError(
        'ValidationException',
        'Parameter EventStartTime is not valid. Reason: EventStartTime must be before EventEndTime.',
      );
    }
    if (request.Destination.Arn !== archive.eventSourceArn) {
      throw new AwsServiceError(
        'ValidationException',
        `Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted; archive ${archive.name} can only be replayed to ${archive.eventSourceArn}.`,
      );
    }
    for (const filterArn of request.Destination.FilterArns ?? []) {
      const ruleName = filterArn.slice(filterArn.lastIndexOf('/') + 1);
      const rule = this.ports.registry.findRule(ruleName, archive.busName);
      if (!rule || rule.arn !== filterArn) {
        throw new AwsServiceError(
          'ResourceNotFoundException',
          `Rule ${ruleName} does not exist on EventBus ${archive.busName}.`,
        );
      }
    }
    if (
      [...this.replays.values()].filter((replay) => ACTIVE.includes(replay.state)).length >=
      MAX_ACTIVE_REPLAYS
    ) {
      throw new AwsServiceError(
        'LimitExceededException',
        `The requested resource exceeds the maximum number allowed: ${MAX_ACTIVE_REPLAYS} active replays.`,
      );
    }
    const replay: ReplayRecord = {
      name: request.ReplayName,
      arn: `arn:aws:events:${this.ports.region}:${this.ports.accountId}:replay/${request.ReplayName}`,
      description: request.Description,
      eventSourceArn: archive.arn,
      destination: {
        Arn: request.Destination.Arn,
        ...(request.Destination.FilterArns?.length
          ? { FilterArns: [...request.Destination.FilterArns] }
          : {}),
      },
      eventStartTime: request.EventStartTime * 1000,
      eventEndTime: request.EventEndTime * 1000,
      state: 'STARTING',
      stateReason: 'Replay is starting.',
      replayStartTime: this.ports.now().getTime(),
    };
    this.replays.set(replay.name, replay);
    this.launch(replay, archive);
    return {
      ReplayArn: replay.arn,
      State: replay.state,
      StateReason: replay.stateReason,
      ReplayStartTime: replay.replayStartTime / 1000,
    };
  }

  /** @throws AwsServiceError ResourceNotFoundException for an unknown replay. */
  describe(name: string): Record<string, unknown> {
    const replay = this.require(name);
    return {
      ReplayName: replay.name,
      ReplayArn: replay.arn,
      ...(replay.description === undefined ? {} : { Description: replay.description }),
      State: replay.state,
      StateReason: replay.stateReason,
      EventSourceArn: replay.eventSourceArn,
      Destination: replay.destination,
      ...this.times(replay),
    };
  }

  /** ListReplays: by name prefix, state and archive, sorted by name, paged by Limit/NextToken. */
  list(input: {
    NamePrefix?: string;
    State?: string;
    EventSourceArn?: string;
    NextToken?: string;
    Limit?: number;
  }) {
    const all = [...this.replays.values()]
      .filter(
        (replay) =>
          (input.NamePrefix === undefined || replay.name.startsWith(input.NamePrefix)) &&
          (input.State === undefined || replay.state === input.State) &&
          (input.EventSourceArn === undefined || replay.eventSourceArn === input.EventSourceArn),
      )
      .sort((a, b) => a.name.localeCompare(b.name));
    const offset = input.NextToken === undefined ? 0 : Number(input.NextToken);
    if (!Number.isInteger(offset) || offset < 0)
      throw new AwsServiceError('ValidationException', 'The NextToken is not valid.');
    const limit = input.Limit ?? 100;
    const page = all.slice(offset, offset + limit).map((replay) => ({
      ReplayName: replay.name,
      EventSourceArn: replay.eventSourceArn,
      State: replay.state,
      StateReason: replay.stateReason,
      ...this.times(replay),
    }));
    return offset + limit < all.length
      ? { Replays: page, NextToken: String(offset + limit) }
      : { Replays: page };
  }

  /**
   * CancelReplay: a STARTING or RUNNING replay becomes CANCELLING, then CANCELLED once it stops.
   *
   * @throws AwsServiceError ResourceNotFoundException, IllegalStatusException when it already ended.
   */
  cancel(name: string): { ReplayArn: string; State: ReplayState; StateReason: string } {
    const replay = this.require(name);
    if (replay.state !== 'STARTING' && replay.state !== 'RUNNING') {
      throw new AwsServiceError(
        'IllegalStatusException',
        `Replay ${name} is ${replay.state} and cannot be cancelled.`,
      );
    }
    replay.state = 'CANCELLING';
    replay.stateReason = 'Replay is being cancelled.';
    return { ReplayArn: replay.arn, State: replay.state, StateReason: replay.stateReason };
  }

  /** Resolves once no replay is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Every replay, for the local state. */
  snapshot(): ReplayRecord[] {
    return [...this.replays.values()].map((replay) => ({ ...replay }));
  }

  /**
   * Puts back replays of an earlier run. One that was still active when the local cloud stopped is FAILED:
   * which of its events had been sent is not known, and replaying them all again would duplicate.
   */
  restore(saved: readonly ReplayRecord[]): void {
    for (const replay of saved) {
      const restored: ReplayRecord = { ...replay };
      if (ACTIVE.includes(restored.state)) {
        restored.state = 'FAILED';
        restored.stateReason = 'The local cloud stopped while the replay was running.';
        restored.replayEndTime = this.ports.now().getTime();
      }
      this.replays.set(restored.name, restored);
    }
  }

  private require(name: string): ReplayRecord {
    const replay = this.replays.get(name);
    if (!replay) throw new AwsServiceError('ResourceNotFoundException', `Replay ${name} does not exist.`);
    return replay;
  }

  private times(replay: ReplayRecord): Record<string, number> {
    return {
      EventStartTime: replay.eventStartTime / 1000,
      EventEndTime: replay.eventEndTime / 1000,
      ...(replay.eventLastReplayedTime === undefined
        ? {}
        : { EventLastReplayedTime: replay.eventLastReplayedTime / 1000 }),
      ReplayStartTime: replay.replayStartTime / 1000,
      ...(replay.replayEndTime === undefined ? {} : { ReplayEndTime: replay.replayEndTime / 1000 }),
    };
  }

  private launch(replay: ReplayRecord, archive: ArchiveDefinition): void {
    const promise = this.run(replay, archive)
      .catch((error: unknown) => {
        replay.state = 'FAILED';
        replay.stateReason = `Replay failed: ${String(error)}`.slice(0, 512);
        replay.replayEndTime = this.ports.now().getTime();
      })
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  /** Sends the archive's events of the window, one minute of event time after the other. */
  private async run(replay: ReplayRecord, archive: ArchiveDefinition): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    const events = archiveContents(archive, this.ports.journal, this.ports.now())
      .map((record) => record.event)
      .filter((event) => {
        const time = Date.parse(event.time);
        return time >= replay.eventStartTime && time <= replay.eventEndTime;
      })
      .sort((a, b) => Math.floor(Date.parse(a.time) / MINUTE) - Math.floor(Date.parse(b.time) / MINUTE));
    if (replay.state === 'STARTING') {
      replay.state = 'RUNNING';
      replay.stateReason = 'Replay is running.';
    }
    const filter = replay.destination.FilterArns;
    for (const event of events) {
      if (replay.state === 'CANCELLING') break;
      this.send(replay.name, archive.busName, event, filter);
      replay.eventLastReplayedTime = Date.parse(event.time);
      await new Promise((resolve) => setImmediate(resolve));
    }
    replay.replayEndTime = this.ports.now().getTime();
    if (replay.state === 'CANCELLING') {
      replay.state = 'CANCELLED';
      replay.stateReason = 'Replay was cancelled.';
    } else {
      replay.state = 'COMPLETED';
      replay.stateReason = 'Replay completed.';
    }
  }

  /** One replayed event: journaled on the bus, delivered to the replay's rules that match it. */
  private send(
    replayName: string,
    busName: string,
    original: EventBridgeEvent,
    filterArns?: readonly string[],
  ): void {
    const event = { ...original, 'replay-name': replayName } as EventBridgeEvent;
    const now = this.ports.now();
    const ingestionTime = now.toISOString();
    this.ports.journal.add({ eventBusName: busName, ingestionTime, event });
    for (const rule of this.ports.registry.rulesOn(busName)) {
      if (filterArns !== undefined && !filterArns.includes(rule.arn)) continue;
      if (rule.state === 'DISABLED' || !rule.matcher || !rule.matcher(event)) continue;
      const context = { event, ruleArn: rule.arn, ruleName: rule.name, ingestionTime };
      for (const target of rule.targets) {
        this.ports.delivery.startRuleDelivery(rule, target, event, context, now.getTime(), 0);
      }
    }
  }
}
