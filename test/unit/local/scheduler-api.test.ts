import { createServer, type Server } from 'node:http';
import { SchedulerClient as Scheduler } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEventBridge } from '#local/eventbridge/bus.ts';
import { readRequestBody } from '#local/http.ts';
import { LocalIam } from '#local/iam/local-iam.ts';
import { LocalSchedulerApi } from '#local/scheduler/api.ts';
import { SchedulerClient } from '#shared/catalog/scheduler-client.ts';
import { lambdaResource, writeAssembly } from '#test/support/local-template.ts';
import { ACCOUNT, FakeRuntime, queueArn, REGION } from './eventbridge-fixtures.ts';
import { lambdaRole, rolePolicy } from './iam-fixtures.ts';

/**
 * The local EventBridge Scheduler API (REST-JSON, as `@aws-sdk/client-scheduler` sends it): validation, IAM
 * (`scheduler:*` on the schedule, `iam:PassRole` on the execution role) and one-time `at()` schedules fired at
 * their second — never before — then deleted with `ActionAfterCompletion: DELETE`.
 */
const silent = { info: () => {}, warn: () => {}, error: () => {} };
const SCHEDULER_ROLE = `arn:aws:iam::${ACCOUNT}:role/Test-SchedulerRole`;

let server: Server;
let base: string;
let iam: LocalIam;
let runtime: FakeRuntime;
let bus: LocalEventBridge;
const fired: { target: string; at: number }[] = [];

beforeAll(async () => {
  const template = writeAssembly(
    {
      Sink: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'sink' } },
      SchedulerRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: 'Test-SchedulerRole',
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'scheduler.amazonaws.com' },
                Action: 'sts:AssumeRole',
              },
            ],
          },
        },
      },
      Prices: { Type: 'AWS::Scheduler::ScheduleGroup', Properties: { Name: 'prices' } },
      WorkerRole: lambdaRole(),
      WorkerPolicy: rolePolicy([
        {
          Effect: 'Allow',
          Action: [
            'scheduler:CreateSchedule',
            'scheduler:UpdateSchedule',
            'scheduler:GetSchedule',
            'scheduler:DeleteSchedule',
          ],
          Resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/*/*`,
        },
        { Effect: 'Allow', Action: 'iam:PassRole', Resource: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] } },
      ]),
      Worker: lambdaResource('worker', {
        FunctionName: 'worker',
        Role: { 'Fn::GetAtt': ['WorkerRole', 'Arn'] },
      }),
      IntruderRole: lambdaRole(),
      IntruderPolicy: rolePolicy(
        [{ Effect: 'Allow', Action: 'scheduler:CreateSchedule', Resource: '*' }],
        ['IntruderRole'],
      ),
      Intruder: lambdaResource('worker', {
        FunctionName: 'intruder',
        Role: { 'Fn::GetAtt': ['IntruderRole', 'Arn'] },
      }),
    },
    { worker: 'export const handler = async () => 1;' },
  ).load({ sqsEndpoint: 'http://127.0.0.1:9' });
  iam = new LocalIam(template, { log: silent });
  runtime = new FakeRuntime(template);
  runtime.onCall = (target) => fired.push({ target, at: Date.now() });
  bus = new LocalEventBridge(template, runtime, { retryBaseDelayMs: 1 });
  bus.start();
  const api = new LocalSchedulerApi(template, bus, iam);
  server = createServer(async (req, res) => {
    const body = await readRequestBody(req, 1 << 20);
    if (!(await api.handle(req, res, body))) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  bus?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

/** A call as the SDK signs it (the local cloud reads the access key id and session token, not the signature). */
async function call(
  as: 'worker' | 'intruder',
  method: string,
  name: string,
  body?: unknown,
  query = '',
): Promise<{ status: number; type: string | null; body: Record<string, unknown> }> {
  const { accessKeyId, sessionToken } = iam.credentialsFor(as);
  const res = await fetch(`${base}/schedules/${encodeURIComponent(name)}${query}`, {
    method,
    headers: {
      'content-type': 'application/json',
      authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20261203/${REGION}/scheduler/aws4_request, SignedHeaders=host, Signature=0`,
      'x-amz-security-token': sessionToken,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.status,
    type: res.headers.get('x-amzn-errortype'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

const at = (ms: number) => `at(${new Date(ms).toISOString().slice(0, 19)})`;
const nextSecond = (offsetMs: number) => Math.ceil((Date.now() + offsetMs) / 1000) * 1000;

const definition = (when: number, input: string, patch: Record<string, unknown> = {}) => ({
  ScheduleExpression: at(when),
  FlexibleTimeWindow: { Mode: 'OFF' },
  ActionAfterCompletion: 'DELETE',
  Target: { Arn: queueArn('sink'), RoleArn: SCHEDULER_ROLE, Input: input },
  ...patch,
});

async function until<T>(probe: () => T | undefined, deadlineMs = 15_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('deadline passed');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('local Scheduler API', () => {
  it('fires a one-time schedule at its second, never before, then deletes it (ActionAfterCompletion DELETE)', async () => {
    const when = nextSecond(1500);
    const created = await call('worker', 'POST', 'price-once', definition(when, '{"at":"once"}'));
    expect(created).toMatchObject({
      status: 200,
      body: { ScheduleArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/price-once` },
    });
    const got = await call('worker', 'GET', 'price-once');
    expect(got.body).toMatchObject({ Name: 'price-once', GroupName: 'default', State: 'ENABLED' });
    const delivery = await until(() => runtime.sqs(queueArn('sink')).find((c) => c.body === '{"at":"once"}'));
    expect(delivery.options?.caller).toMatchObject({ kind: 'role', roleArn: SCHEDULER_ROLE });
    const firedAt = fired.find((f) => f.target === queueArn('sink'))?.at ?? 0;
    expect(firedAt).toBeGreaterThanOrEqual(when);
    await until(() => (bus.nextFires()['price-once'] === undefined ? true : undefined));
    expect((await call('worker', 'GET', 'price-once')).status).toBe(404);
  });

  it('UpdateSchedule moves a schedule (it fires at the new time only); DeleteSchedule cancels one', async () => {
    const first = nextSecond(1000);
    await call('worker', 'POST', 'moved', definition(first, 'moved', { GroupName: 'prices' }));
    const later = first + 2000;
    const updated = await call('worker', 'PUT', 'moved', definition(later, 'moved', { GroupName: 'prices' }));
    expect(updated.status).toBe(200);
    await call('worker', 'POST', 'cancelled', definition(first, 'cancelled'));
    expect((await call('worker', 'DELETE', 'cancelled')).status).toBe(200);
    await until(() => runtime.sqs(queueArn('sink')).find((c) => c.body === 'moved'));
    const moves = fired.filter((f) => f.at >= first - 1000);
    expect(Math.min(...moves.map((f) => f.at))).toBeGreaterThanOrEqual(later);
    expect(runtime.sqs(queueArn('sink')).filter((c) => c.body === 'moved')).toHaveLength(1);
    expect(runtime.sqs(queueArn('sink')).some((c) => c.body === 'cancelled')).toBe(false);
  });

  it('validates like the API reference', async () => {
    const when = Date.now() + 3_600_000;
    const cases: [string, unknown, number, string][] = [
      ['bad name!', definition(when, 'x'), 400, 'ValidationException'],
      ['no-window', { ...definition(when, 'x'), FlexibleTimeWindow: undefined }, 400, 'ValidationException'],
      [
        'flexible',
        definition(when, 'x', { FlexibleTimeWindow: { Mode: 'FLEXIBLE' } }),
        400,
        'ValidationException',
      ],
      [
        'off-window',
        definition(when, 'x', { FlexibleTimeWindow: { Mode: 'OFF', MaximumWindowInMinutes: 5 } }),
        400,
        'ValidationException',
      ],
      ['after', definition(when, 'x', { ActionAfterCompletion: 'ARCHIVE' }), 400, 'ValidationException'],
      [
        'expr',
        definition(when, 'x', { ScheduleExpression: 'at(2026-13-01T00:00:00)' }),
        400,
        'ValidationException',
      ],
      [
        'role',
        definition(when, 'x', { Target: { Arn: queueArn('sink'), RoleArn: 'scheduler' } }),
        400,
        'ValidationException',
      ],
      ['group', definition(when, 'x', { GroupName: 'nope' }), 404, 'ResourceNotFoundException'],
      ['x'.repeat(65), definition(when, 'x'), 400, 'ValidationException'],
    ];
    for (const [name, body, status, type] of cases) {
      const answer = await call('worker', 'POST', name, body);
      expect({ name, status: answer.status, type: answer.type }).toEqual({ name, status, type });
    }
    expect((await call('worker', 'POST', 'twice', definition(when, 'x'))).status).toBe(200);
    expect(await call('worker', 'POST', 'twice', definition(when, 'x'))).toMatchObject({
      status: 409,
      type: 'ConflictException',
    });
    expect(await call('worker', 'PUT', 'never-made', definition(when, 'x'))).toMatchObject({
      status: 404,
      type: 'ResourceNotFoundException',
    });
    expect((await call('worker', 'DELETE', 'twice')).status).toBe(200);
  });

  it('refuses a caller without iam:PassRole on the execution role (as AWS does)', async () => {
    const answer = await call('intruder', 'POST', 'sneaky', definition(Date.now() + 3_600_000, 'x'));
    expect(answer).toMatchObject({ status: 403, type: 'AccessDeniedException' });
    expect(String(answer.body.Message)).toContain('iam:PassRole');
    expect(await call('intruder', 'GET', 'sneaky')).toMatchObject({ status: 403 });
  });
});

/** The SDK's client as a function of that role has it (the local endpoint, the role's session). */
const sdk = (as: 'worker' | 'intruder') =>
  new Scheduler({ region: REGION, endpoint: base, credentials: iam.credentialsFor(as), maxAttempts: 1 });

describe('the price flow’s Scheduler client (@aws-sdk/client-scheduler) against the local API', () => {
  it('creates (a second create is success), fires through the role, and deletes (a second delete is success)', async () => {
    const client = new SchedulerClient({
      client: sdk('worker'),
      groupName: 'prices',
      targetArn: queueArn('sink'),
      roleArn: SCHEDULER_ROLE,
    });
    const when = nextSecond(1200);
    const expression = at(when);
    await client.ensure('price-client', expression, '{"kind":"price-due"}');
    await client.ensure('price-client', expression, '{"kind":"price-due"}');
    await client.ensure('price-gone', at(when + 3_600_000), 'never');
    await client.remove('price-gone');
    await client.remove('price-gone');
    await until(() => runtime.sqs(queueArn('sink')).find((c) => c.body === '{"kind":"price-due"}'));
    expect(runtime.sqs(queueArn('sink')).filter((c) => c.body === '{"kind":"price-due"}')).toHaveLength(1);
    const refused = new SchedulerClient({
      client: sdk('intruder'),
      groupName: 'prices',
      targetArn: queueArn('sink'),
      roleArn: SCHEDULER_ROLE,
    });
    await expect(refused.ensure('price-x', expression, 'x')).rejects.toMatchObject({
      type: 'AccessDeniedException',
    });
  });
});
