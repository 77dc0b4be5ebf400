/**
 * The local X-Ray daemon: a UDP listener at `AWS_XRAY_DAEMON_ADDRESS` that receives what the functions'
 * X-Ray SDK (through the Powertools tracer) sends, checks each document, and counts it — so tracing code runs
 * locally as it runs on Lambda, and a tracing bug (a malformed segment, a trace that never closes) shows.
 *
 * Each datagram is a JSON header line `{"format": "json", "version": 1}`, a newline, then one segment or
 * subsegment document ("Sending trace data to AWS X-Ray", X-Ray Developer Guide). A document needs `name`,
 * `id` (16 hex digits), `trace_id` (`1-<8 hex>-<24 hex>`), `start_time`, and `end_time` or
 * `in_progress: true`; a subsegment sent on its own also has `type: "subsegment"` and `parent_id`
 * ("AWS X-Ray segment documents").
 */
import { createSocket, type Socket } from 'node:dgram';
import type { LocalLogger } from '../types.ts';

const HEADER = /^\{\s*"format"\s*:\s*"json"\s*,\s*"version"\s*:\s*1\s*\}$/;
const TRACE_ID = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
const SEGMENT_ID = /^[0-9a-f]{16}$/;

export interface XrayCounters {
  readonly segments: number;
  readonly subsegments: number;
  /** Distinct trace ids seen. */
  readonly traces: number;
  /** Documents that recorded an error or a fault. */
  readonly withErrors: number;
  /** Datagrams that are not a valid header and segment document. */
  readonly malformed: number;
}

/** Why a datagram is not a valid X-Ray document, or undefined when it is. */
export function invalidSegment(datagram: string): string | undefined {
  const newline = datagram.indexOf('\n');
  if (newline < 0 || !HEADER.test(datagram.slice(0, newline).trim()))
    return 'no {"format":"json","version":1} header line';
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(datagram.slice(newline + 1)) as Record<string, unknown>;
  } catch {
    return 'the segment document is not JSON';
  }
  if (typeof document.name !== 'string' || document.name.length === 0) return 'no name';
  if (typeof document.id !== 'string' || !SEGMENT_ID.test(document.id))
    return `id ${String(document.id)} is not 16 hex digits`;
  if (typeof document.trace_id !== 'string' || !TRACE_ID.test(document.trace_id)) {
    return `trace_id ${String(document.trace_id)} is not 1-<8 hex>-<24 hex>`;
  }
  if (typeof document.start_time !== 'number') return 'no start_time';
  if (typeof document.end_time !== 'number' && document.in_progress !== true)
    return 'neither end_time nor in_progress';
  if (document.type === 'subsegment' && typeof document.parent_id !== 'string')
    return 'a subsegment without parent_id';
  return undefined;
}

export class LocalXrayDaemon {
  private segmentCount = 0;
  private subsegmentCount = 0;
  private errorCount = 0;
  private malformedCount = 0;
  private readonly traceIds = new Set<string>();

  private constructor(
    private readonly socket: Socket,
    /** `127.0.0.1:<port>`, the value of `AWS_XRAY_DAEMON_ADDRESS`. */
    readonly address: string,
    private readonly log: LocalLogger,
  ) {
    socket.on('message', (message) => this.receive(message.toString('utf8')));
  }

  /** Listens on 127.0.0.1:`port` (0: any free port). */
  static start(port: number, log: LocalLogger): Promise<LocalXrayDaemon> {
    const socket = createSocket('udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve(new LocalXrayDaemon(socket, `127.0.0.1:${socket.address().port}`, log));
      });
    });
  }

  get counters(): XrayCounters {
    return {
      segments: this.segmentCount,
      subsegments: this.subsegmentCount,
      traces: this.traceIds.size,
      withErrors: this.errorCount,
      malformed: this.malformedCount,
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private receive(datagram: string): void {
    const problem = invalidSegment(datagram);
    if (problem) {
      this.malformedCount += 1;
      if (this.malformedCount <= 5)
        this.log.warn('X-Ray: a malformed segment was sent to the daemon', { problem });
      return;
    }
    const document = JSON.parse(datagram.slice(datagram.indexOf('\n') + 1)) as Record<string, unknown>;
    if (document.type === 'subsegment') this.subsegmentCount += 1;
    else this.segmentCount += 1;
    this.traceIds.add(document.trace_id as string);
    if (document.error === true || document.fault === true) this.errorCount += 1;
  }
}

/**
 * A new `_X_AMZN_TRACE_ID` value as Lambda sets it for an invocation: `Root=1-<epoch seconds hex>-<96 random
 * bits>;Parent=<64 random bits>;Sampled=<1 when the function's tracing is Active, else 0>`.
 */
export function lambdaTraceHeader(sampled: boolean, now = Date.now()): string {
  const hex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
  const seconds = Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${seconds}-${hex(12)};Parent=${hex(8)};Sampled=${sampled ? 1 : 0}`;
}
