/**
 * The local cloud's one persistence mechanism: everything that must survive Ctrl-C and `npm start` (queue
 * contents, pending EventBridge retries, Step Functions executions, secrets and parameters written at run
 * time, the sandboxes' data) is a named *section* of one store under `.local/state`.
 *
 * Each section is a snapshot taken by its owner. The store writes every section periodically (default every
 * second) and once more on stop, each file atomically (written beside, then renamed), so a crash leaves the
 * last complete snapshot of every section — at most one flush interval old — never a half-written one.
 * DynamoDB Local writes its own files in `dynamodb/`, and the bus journal is `events.jsonl`.
 *
 * `state.json` names what the state belongs to (the stack, the sandboxes' seed): state of another stack or
 * seed refuses to boot, naming the fix (`--fresh`), instead of mixing two worlds.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { LocalLogger } from '../types.ts';

/** How a section is written: JSON text, or V8's structured serialization (Maps, typed arrays, shared objects). */
export type SectionEncoding = 'json' | 'v8';

/** One participant of the store: a name and a snapshot of its state right now. */
export interface StateSection {
  readonly name: string;
  readonly encoding?: SectionEncoding;
  /**
   * Periodic flushes write this section at most this often (a large snapshot, such as a sandbox's store,
   * costs tens of milliseconds); the final flush always writes it. @default every flush
   */
  readonly minIntervalMs?: number;
  snapshot(): unknown;
}

/** What the state belongs to; each key present on both sides must match. */
export type StateIdentity = Readonly<Record<string, string | number>>;

export interface StateStoreOptions {
  /** Wipe the directory first (`npm start -- --fresh`). */
  readonly fresh?: boolean;
  readonly identity: StateIdentity;
  /** Between periodic flushes. @default 1000 */
  readonly flushIntervalMs?: number;
  readonly log?: LocalLogger;
}

/** The state of another stack or seed: the boot stops with this. */
export class IncompatibleStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompatibleStateError';
  }
}

const FORMAT = 1;
const MANIFEST = 'state.json';
const SECTIONS = 'sections';

const silent: LocalLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** Section files live under `sections/`; names are file names. */
function sectionFile(dir: string, name: string, encoding: SectionEncoding): string {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new Error(`invalid state section name ${name}`);
  return join(dir, SECTIONS, `${name}.${encoding === 'v8' ? 'bin' : 'json'}`);
}

/** Writes `data` to `file` so that a reader (or a crash) sees the old file or the new one, never a part. */
function writeAtomically(file: string, data: string | Buffer): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, file);
}

/** `.local/state` of one local cloud: sections restored at boot, snapshotted periodically and on stop. */
export class LocalStateStore {
  private readonly sections = new Map<string, StateSection>();
  private readonly written = new Map<string, number>();
  private readonly log: LocalLogger;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly identity: StateIdentity,
    private readonly flushIntervalMs: number,
    log: LocalLogger,
  ) {
    this.log = log;
  }

  /**
   * Opens (or creates) the store in `dir` for `identity`.
   *
   * @throws IncompatibleStateError when the directory holds state of another stack or seed.
   */
  static open(dir: string, options: StateStoreOptions): LocalStateStore {
    if (options.fresh) rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, SECTIONS), { recursive: true });
    const manifestFile = join(dir, MANIFEST);
    let stored: { format?: number; identity?: Record<string, unknown> } = {};
    if (existsSync(manifestFile)) {
      try {
        stored = JSON.parse(readFileSync(manifestFile, 'utf8')) as typeof stored;
      } catch {
        throw new IncompatibleStateError(`${manifestFile} is unreadable; start with --fresh to wipe ${dir}`);
      }
      if (stored.format !== FORMAT) {
        throw new IncompatibleStateError(
          `${dir} holds local state of format ${String(stored.format)} (this local cloud writes ${FORMAT}); start with --fresh to wipe it`,
        );
      }
    }
    const mismatches = Object.entries(options.identity).filter(
      ([key, value]) => stored.identity?.[key] !== undefined && stored.identity[key] !== value,
    );
    if (mismatches.length > 0) {
      const described = mismatches
        .map(
          ([key, value]) =>
            `${key} ${JSON.stringify(stored.identity?.[key])} (this run: ${JSON.stringify(value)})`,
        )
        .join(', ');
      throw new IncompatibleStateError(
        `${dir} holds the state of ${described}; start with --fresh to wipe it, or run with the same settings`,
      );
    }
    const identity = {
      ...(stored.identity as Record<string, string | number> | undefined),
      ...options.identity,
    };
    writeAtomically(manifestFile, `${JSON.stringify({ format: FORMAT, identity }, null, 2)}\n`);
    // Leftovers of a crash in the middle of a write: the section file itself is intact.
    for (const file of readdirSync(join(dir, SECTIONS))) {
      if (file.endsWith('.tmp')) rmSync(join(dir, SECTIONS, file), { force: true });
    }
    return new LocalStateStore(dir, identity, options.flushIntervalMs ?? 1000, options.log ?? silent);
  }

  /**
   * The last snapshot of a section, or undefined when there is none (first run, `--fresh`). An unreadable
   * file stops the boot: silently starting empty would lose what it held.
   */
  restore<T>(name: string, encoding: SectionEncoding = 'json'): T | undefined {
    const file = sectionFile(this.dir, name, encoding);
    if (!existsSync(file)) return undefined;
    try {
      const data = readFileSync(file);
      return (encoding === 'v8' ? deserialize(data) : JSON.parse(data.toString('utf8'))) as T;
    } catch (error) {
      throw new IncompatibleStateError(
        `state section ${name} (${file}) is unreadable (${(error as Error).message}); start with --fresh to wipe ${this.dir}`,
      );
    }
  }

  /** Adds a section to the periodic and final flushes (replacing one of the same name). */
  register(section: StateSection): void {
    this.sections.set(section.name, section);
    if (!this.timer && !this.closed) {
      this.timer = setInterval(() => this.tick(), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * Writes the section one last time and drops it from later flushes: for an owner that stops before the
   * store closes (the sandboxes), so an empty after-stop snapshot never overwrites the real one.
   */
  retire(name: string): void {
    const section = this.sections.get(name);
    if (!section) return;
    this.write(section);
    this.sections.delete(name);
  }

  /** Snapshots and writes every section now. A section whose snapshot fails is logged and keeps its last file. */
  flush(): void {
    for (const section of this.sections.values()) this.write(section);
  }

  /** The periodic flush: sections with a minimum interval are written when it has passed. */
  private tick(): void {
    const now = Date.now();
    for (const section of this.sections.values()) {
      const last = this.written.get(section.name) ?? 0;
      if (section.minIntervalMs === undefined || now - last >= section.minIntervalMs) this.write(section);
    }
  }

  /** The final flush; later flushes do nothing. */
  close(): void {
    if (this.closed) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
    this.closed = true;
    this.sections.clear();
  }

  /** Stops the periodic flushes without a final one: what a crash leaves (tests). */
  abandon(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.closed = true;
    this.sections.clear();
  }

  private write(section: StateSection): void {
    const encoding = section.encoding ?? 'json';
    try {
      const value = section.snapshot();
      writeAtomically(
        sectionFile(this.dir, section.name, encoding),
        encoding === 'v8' ? serialize(value) : JSON.stringify(value),
      );
      this.written.set(section.name, Date.now());
    } catch (error) {
      this.log.error('local state: a section could not be saved; its last snapshot stays', {
        section: section.name,
        error: (error as Error).message,
      });
    }
  }
}
