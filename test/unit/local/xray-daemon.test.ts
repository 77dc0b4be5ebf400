import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { invalidSegment, LocalXrayDaemon, lambdaTraceHeader } from '#local/xray/daemon.ts';

const HEADER = '{"format": "json", "version": 1}\n';
const segment = (fields: Record<string, unknown> = {}) =>
  HEADER +
  JSON.stringify({
    name: 'erp-order-sync',
    id: '70de5b6f19ff9a0a',
    trace_id: '1-581cf771-a006649127e371903a2de979',
    start_time: 1.478293361271e9,
    end_time: 1.478293361449e9,
    ...fields,
  });

describe('local X-Ray daemon', () => {
  let daemon: LocalXrayDaemon | undefined;
  afterEach(async () => {
    await daemon?.close();
    daemon = undefined;
  });

  it('checks each document as the segment document schema requires', () => {
    expect(invalidSegment(segment())).toBeUndefined();
    expect(invalidSegment(segment({ end_time: undefined, in_progress: true }))).toBeUndefined();
    expect(invalidSegment(segment().slice(HEADER.length))).toMatch(/header/);
    expect(invalidSegment(segment({ trace_id: 'abc' }))).toMatch(/trace_id/);
    expect(invalidSegment(segment({ end_time: undefined }))).toMatch(/end_time/);
    expect(invalidSegment(segment({ type: 'subsegment' }))).toMatch(/parent_id/);
  });

  it('counts segments, subsegments, traces, errors and malformed datagrams sent over UDP', async () => {
    daemon = await LocalXrayDaemon.start(0, { info: () => {}, warn: () => {}, error: () => {} });
    const [host, port] = daemon.address.split(':') as [string, string];
    const client = createSocket('udp4');
    const send = (text: string) =>
      new Promise<void>((resolve) => client.send(Buffer.from(text), Number(port), host, () => resolve()));
    await send(segment());
    await send(
      segment({ type: 'subsegment', parent_id: '70de5b6f19ff9a0a', id: '70de5b6f19ff9a0b', fault: true }),
    );
    await send('not a segment');
    client.close();
    const deadline = Date.now() + 2000;
    while (
      daemon.counters.segments + daemon.counters.subsegments + daemon.counters.malformed < 3 &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(daemon.counters).toEqual({ segments: 1, subsegments: 1, traces: 1, withErrors: 1, malformed: 1 });
  });

  it('makes Lambda-style trace headers, sampled for Active tracing', () => {
    expect(lambdaTraceHeader(true, 1_700_000_000_000)).toMatch(
      /^Root=1-6553f100-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/,
    );
    expect(lambdaTraceHeader(false)).toMatch(/;Sampled=0$/);
  });
});
