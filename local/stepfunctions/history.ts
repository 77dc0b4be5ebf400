/**
 * Execution history in the shape of `GetExecutionHistory`, built from two sources: the library's event log
 * (executions, state entered/exited, Map iterations) and the local service's own task events (scheduled,
 * submitted, succeeded, failed, timed out). The library delivers its log asynchronously, so task events
 * that arrive before their state's `…StateEntered` has been read are held back and placed after it.
 */
import type { StateMachine } from 'aws-local-stepfunctions';

/** One event of the library's execution log (the type is not exported by the package). */
export type LibraryEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** A history event as the API returns it: `details` becomes the `<type>EventDetails` member. */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: Date;
  readonly type: string;
  readonly detailsKey?: string;
  readonly details?: Record<string, unknown>;
}

type PendingEvent = Omit<HistoryEvent, 'id' | 'previousEventId'>;

const json = (value: unknown): string => JSON.stringify(value ?? null);

/** `stateEnteredEventDetails` for `TaskStateEntered`: AWS names details by event family, not state type. */
function detailsKeyFor(type: string): string {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
}

/** Collects one execution's history in order; see the module comment for why task events may wait. */
export class ExecutionHistory {
  private readonly recorded: HistoryEvent[] = [];
  /** How many times each state has been entered and not yet exited, as read from the library log. */
  private readonly open = new Map<string, number>();
  private readonly held = new Map<string, PendingEvent[]>();

  constructor(
    /** The type each state has in the template (a Wait state runs as a Task in the library). */
    private readonly stateType: (name: string, libraryType: string) => string,
    /**
     * Status, error and cause for the closing event. The library's log may be read before the service
     * records the outcome, so the library's own closing event is passed to fill in a failure.
     */
    private readonly closing: (event: LibraryEvent) => { status: string; error?: string; cause?: string },
  ) {}

  get events(): readonly HistoryEvent[] {
    return this.recorded;
  }

  /** Appends an event now. */
  add(type: string, details?: Record<string, unknown>, timestamp = new Date()): void {
    const previous = this.recorded.at(-1);
    this.recorded.push({
      id: this.recorded.length + 1,
      previousEventId: previous?.id ?? 0,
      timestamp,
      type,
      ...(details ? { detailsKey: detailsKeyFor(type), details } : {}),
    });
  }

  /** Appends a task event of `stateName`, after that state's entered event. */
  addForState(stateName: string, type: string, details: Record<string, unknown>): void {
    if ((this.open.get(stateName) ?? 0) > 0) {
      this.add(type, details);
      return;
    }
    const held = this.held.get(stateName) ?? [];
    held.push({ type, timestamp: new Date(), detailsKey: detailsKeyFor(type), details });
    this.held.set(stateName, held);
  }

  private release(stateName: string): void {
    for (const event of this.held.get(stateName) ?? []) this.add(event.type, event.details, event.timestamp);
    this.held.delete(stateName);
  }

  /** Called when the library's log ends: nothing may stay held back. */
  flush(): void {
    for (const name of [...this.held.keys()]) this.release(name);
  }

  /** Records one event of the library's log. */
  fromLibrary(event: LibraryEvent): void {
    const at = new Date(event.timestamp);
    switch (event.type) {
      case 'ExecutionStarted':
        break; // recorded by the service when the execution is created
      case 'ExecutionSucceeded':
        this.flush();
        this.add(
          'ExecutionSucceeded',
          { output: json(event.output), outputDetails: { truncated: false } },
          at,
        );
        break;
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimeout': {
        this.flush();
        const { status, error, cause } = this.closing(event);
        const type =
          status === 'TIMED_OUT'
            ? 'ExecutionTimedOut'
            : status === 'ABORTED'
              ? 'ExecutionAborted'
              : 'ExecutionFailed';
        this.add(
          type,
          { ...(error === undefined ? {} : { error }), ...(cause === undefined ? {} : { cause }) },
          at,
        );
        break;
      }
      case 'StateEntered': {
        const type = this.stateType(event.state.name, event.state.type);
        this.add(
          `${type}StateEntered`,
          { name: event.state.name, input: json(event.state.input), inputDetails: { truncated: false } },
          at,
        );
        this.open.set(event.state.name, (this.open.get(event.state.name) ?? 0) + 1);
        this.release(event.state.name);
        break;
      }
      case 'StateExited': {
        this.release(event.state.name);
        const type = this.stateType(event.state.name, event.state.type);
        this.add(
          `${type}StateExited`,
          { name: event.state.name, output: json(event.state.output), outputDetails: { truncated: false } },
          at,
        );
        this.open.set(event.state.name, Math.max(0, (this.open.get(event.state.name) ?? 0) - 1));
        break;
      }
      case 'StateFailed': {
        this.release(event.state.name);
        if (event.state.type === 'Map' || event.state.type === 'Parallel') {
          this.add(`${event.state.type}StateFailed`, undefined, at);
        }
        break;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        this.add(event.type, { name: event.parentState.name, index: event.index }, at);
        break;
      default:
        break; // retries, catches and Parallel branch events have no AWS history counterpart
    }
  }
}
