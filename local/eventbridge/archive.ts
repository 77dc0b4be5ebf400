import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LocalLogger } from '../types.ts';
import type { EventBridgeEvent } from './event.ts';

/** One event as it crossed one bus. */
export interface ArchivedEvent {
  readonly eventBusName: string;
  /** When the bus accepted it (ISO 8601, milliseconds kept so same-second events stay distinguishable). */
  readonly ingestionTime: string;
  readonly event: EventBridgeEvent;
}

/** Narrows the archive to one detail-type, source and/or bus (`GET /_local/events?detail-type=…&source=…`). */
export interface ArchiveFilter {
  readonly detailType?: string | undefined;
  readonly source?: string | undefined;
  readonly eventBusName?: string | undefined;
}

/**
 * The local archive: every event that crossed a bus, oldest first, so tests, demos and `/_local/events` can
 * see what the hub published. Kept in memory and, when a file is given, appended to it as JSON lines
 * (`{"eventBusName", "ingestionTime", "event"}`) and reloaded on start, so `.local/` state survives restarts.
 * Appends are synchronous so the file order is the bus order even when PutEvents calls interleave.
 */
export class EventArchive {
  private readonly records: ArchivedEvent[] = [];

  constructor(
    private readonly file: string | undefined,
    log: LocalLogger,
  ) {
    if (!file) return;
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      return;
    }
    const lines = readFileSync(file, 'utf8').split('\n');
    let skipped = 0;
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const record = JSON.parse(line) as ArchivedEvent;
        if (typeof record.eventBusName === 'string' && typeof record.event?.id === 'string')
          this.records.push(record);
        else skipped += 1;
      } catch {
        // A line cut short by a crash mid-append: the events before and after it are still good.
        skipped += 1;
      }
    }
    if (skipped > 0) log.warn('event archive: skipped unreadable lines', { file, skipped });
  }

  /** Keeps one event; appends it to the file first so memory never holds what the file lost. */
  add(record: ArchivedEvent): void {
    if (this.file) appendFileSync(this.file, `${JSON.stringify(record)}\n`);
    this.records.push(record);
  }

  /** The archived records matching `filter`, oldest first. */
  list(filter: ArchiveFilter = {}): ArchivedEvent[] {
    return this.records.filter(
      (record) =>
        (filter.detailType === undefined || record.event['detail-type'] === filter.detailType) &&
        (filter.source === undefined || record.event.source === filter.source) &&
        (filter.eventBusName === undefined || record.eventBusName === filter.eventBusName),
    );
  }

  get size(): number {
    return this.records.length;
  }
}

/**
 * An `AWS::Events::Archive`: the events of one bus that match its pattern (all of them without one), kept
 * `RetentionDays` (0: indefinitely), replayable with StartReplay. Its contents are a view of the bus journal
 * above. ("Archiving and replaying events in Amazon EventBridge", User Guide; API Reference `CreateArchive`,
 * `DescribeArchive`.)
 */
export interface ArchiveDefinition {
  readonly name: string;
  readonly arn: string;
  readonly logicalId: string;
  /** The source bus's ARN (`EventSourceArn`) and name. */
  readonly eventSourceArn: string;
  readonly busName: string;
  readonly description?: string | undefined;
  readonly patternText?: string | undefined;
  readonly matcher?: ((event: unknown) => boolean) | undefined;
  /** 0 keeps events indefinitely (the default). */
  readonly retentionDays: number;
  readonly kmsKeyIdentifier?: string | undefined;
}

/** The events an archive holds now, oldest first: its bus, its pattern, within its retention. */
export function archiveContents(
  archive: ArchiveDefinition,
  journal: EventArchive,
  now: Date,
): ArchivedEvent[] {
  const oldest = archive.retentionDays > 0 ? now.getTime() - archive.retentionDays * 86_400_000 : -Infinity;
  return journal
    .list({ eventBusName: archive.busName })
    .filter(
      (record) =>
        Date.parse(record.ingestionTime) >= oldest &&
        (archive.matcher === undefined || archive.matcher(record.event)),
    );
}
