/**
 * `npm start`: synthesizes the dev stack (cached while sources are unchanged) and runs it locally with
 * the sandbox Shopify, POS and ERP systems. `PORT` (default 3000) sets the HTTP port; state persists
 * under `.local/` unless `--fresh` is given; `--chaos` turns on duplicated and reordered deliveries and
 * failed PutEvents entries (see local/chaos.ts). Ctrl-C stops everything.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalRole } from '#infra/config/local-roles.ts';
import { startLocalCloud } from './cloud.ts';
import { toJsonLogLine } from './function-logs.ts';
import { onboardOnStart, registerOnStart } from './onboarding.ts';
import { opsCommand } from './parked.ts';
import { type ParkedWatch, watchParked } from './parked-watch.ts';
import { sandboxSeed, startSandboxes } from './sandboxes.ts';
import { portInUseMessage, takenPort } from './services/ports.ts';
import { LocalStateStore } from './state/store.ts';
import { synthCacheDir, synthesize } from './synth.ts';

const projectDir = fileURLToPath(new URL('..', import.meta.url));
const fresh = process.argv.includes('--fresh');
const chaos = process.argv.includes('--chaos');
const port = Number(process.env.PORT ?? 3000);
const environment = 'dev';
const stackName = `Omnihub-${environment}`;
// OMNIHUB_LOCAL_DIR: another place for the synth, logs and state (tests run a second `npm start` beside yours).
const localDir = process.env.OMNIHUB_LOCAL_DIR ?? join(projectDir, '.local');
const relativeDir = relative(process.cwd(), localDir);
const shownDir = relativeDir.startsWith('..') ? localDir : relativeDir || '.';
const logDir = join(localDir, 'logs');
mkdirSync(logDir, { recursive: true });

const started = Date.now();
const say = (line: string) => process.stdout.write(`${line}\n`);

// Ctrl-C (SIGINT to the terminal's foreground process group) or SIGTERM, from the first line on: a Ctrl-C during
// the boot is kept and honoured at the next step (closeBooting below), one after it stops the hub (stop below).
// Node's default — die by the signal, exit 130, nothing saved — never applies. `npm start` runs this file in
// one process (`node --import tsx`, see package.json): tsx's CLI runs it as its child and, when the child does
// not acknowledge a signal over IPC within 30 ms (twice), kills it and exits 130 — a busy event loop on a
// loaded machine was enough (https://github.com/privatenumber/tsx/issues/95 for its signal relay).
let stopRequested = false;
let onStopSignal = () => {
  stopRequested = true;
};
process.on('SIGINT', () => onStopSignal());
process.on('SIGTERM', () => onStopSignal());
/** A boot that cannot go on: what is wrong and what to do, without a stack trace. */
const refuse = (message: string): never => {
  process.stderr.write(`omnihub: the local cloud could not start: ${message}\n`);
  process.exit(1);
};

if (!Number.isInteger(port) || port < 1 || port > 65_532)
  refuse(`PORT=${process.env.PORT} is not a port number (npm start takes PORT … PORT+3)`);

// One npm start per local directory: two would write the same state. The lock names the running one.
const lockFile = join(localDir, 'npm-start.lock');
const running = readLock();
if (running) {
  refuse(
    `another npm start (pid ${running.pid}, PORT=${running.port}) is using ${shownDir}/ — stop it (Ctrl-C), ` +
      `or run this one with its own directory and ports: OMNIHUB_LOCAL_DIR=<dir> PORT=<n> npm start`,
  );
}
// Ports are checked before the synth: a taken one is named at once, not after the synth's seconds.
const taken = await takenPort(port);
if (taken !== undefined) refuse(await portInUseMessage(port, taken));
writeFileSync(lockFile, JSON.stringify({ pid: process.pid, port }));

function readLock(): { pid: number; port: number } | undefined {
  let lock: { pid: number; port: number };
  try {
    lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number; port: number };
  } catch {
    return undefined; // No lock, or an unreadable one.
  }
  // Our own pid or our parent's (npm, the bootstrap): a lock left by a crash in a container, where every
  // start gets the same pids — not another npm start.
  if (lock.pid === process.pid || lock.pid === process.ppid) return undefined;
  try {
    process.kill(lock.pid, 0);
    return lock;
  } catch (error) {
    // EPERM: the process exists, owned by another user — it is running. ESRCH: gone (a crash): free.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? lock : undefined;
  }
}

say(`omnihub: synthesizing ${stackName}…`);
const url = `http://127.0.0.1:${port}`;
// The dev stack as deployed, except that the ERP and the POS are the local NetSuite and Square sandboxes.
const context = {
  netsuiteBaseUrl: `${url}/_sandbox/netsuite`,
  squareBaseUrl: `${url}/_sandbox/square`,
  shopifyBaseUrl: `${url}/_sandbox/shopify`,
};
// One cached synth per stack and context: another PORT has its own, so two local clouds never evict each other.
const assemblyDir = synthCacheDir(join(localDir, 'cdk.out'), stackName, context);
const synth = await synthesize({ projectDir, outDir: assemblyDir, environment, context }).catch(
  async (error: Error) => {
    // The synth runs in the same process group: a Ctrl-C stops it too, which is no error.
    if (stopRequested) return closeBooting();
    rmSync(lockFile, { force: true });
    return refuse(error.message);
  },
);
if (stopRequested) await closeBooting();
say(
  `omnihub: ${synth.cached ? 'template unchanged, using the cached synth' : `synthesized in ${(synth.ms / 1000).toFixed(1)} s`}`,
);

// One local state for the hub and the sandboxes: they stop and start together (see local/state/store.ts).
const state = openState();
// The hub registers its webhook subscriptions itself once it is up (registerOnStart), as an operator would.
const sandboxes = await startSandboxes({ hubUrl: url, env: process.env, state, webhooks: 'by-the-hub' });
if (stopRequested) await closeBooting({ sandboxes, state });
const cloud = await bootCloud();
sandboxes.resume();
if (stopRequested) await closeBooting({ cloud, sandboxes, state });

/**
 * A stop asked for during the boot: what has started closes in the order of a stop (the hub, then the
 * sandboxes and the state), and the process exits 0 — Ctrl-C is how a user says "not now", not a failure.
 */
async function closeBooting(
  open: {
    cloud?: { stop(): Promise<void> };
    sandboxes?: { close(): Promise<void> };
    state?: LocalStateStore;
  } = {},
): Promise<never> {
  say('\nomnihub: stopping (the boot was interrupted)…');
  await open.cloud?.stop();
  await open.sandboxes?.close();
  open.state?.close();
  rmSync(lockFile, { force: true });
  say(
    open.state
      ? `omnihub: stopped, state saved in ${shownDir}/state.`
      : 'omnihub: stopped (nothing had started).',
  );
  process.exit(0);
}

function openState(): LocalStateStore {
  try {
    return LocalStateStore.open(join(localDir, 'state'), {
      fresh,
      identity: { stack: stackName, seed: sandboxSeed(process.env) },
      log: {
        info: () => {},
        warn: (message) => say(`omnihub: WARN ${message}`),
        error: (message) => say(`omnihub: ERROR ${message}`),
      },
    });
  } catch (error) {
    rmSync(lockFile, { force: true });
    return refuse((error as Error).message);
  }
}
// Mapping rows from the sandboxes themselves, so sandbox orders book into the NetSuite sandbox. Health stays
// 503 until they are written: an order posted the moment health is 200 finds its mappings.
await onboardOnStart(cloud.url, say);
if (stopRequested) await closeBooting({ cloud, sandboxes, state });
await registerOnStart(cloud.url, say);
if (stopRequested) await closeBooting({ cloud, sandboxes, state });
cloud.ready();
const parkedWatch = startParkedWatch();

/** One console line when something is parked (local/parked-watch.ts); none when the stack has no such table. */
function startParkedWatch(): ParkedWatch | undefined {
  const table = cloud.template.withRole('exceptions-table' satisfies LocalRole)[0]?.name;
  return table
    ? watchParked({ dynamodbEndpoint: cloud.endpoints.dynamodb, table, say, ops: opsCommand(port) })
    : undefined;
}

async function bootCloud() {
  try {
    return await startLocalCloud({
      assemblyDir,
      stackName,
      port,
      state,
      // One knob for every alarm of the template: 0.1 makes a 60-second period last 6 s.
      alarmTimeScale: Number(process.env.OMNIHUB_ALARM_TIME_SCALE ?? 1),
      chaos,
      warming: ['mappings onboarding'],
      sandboxes: sandboxes.handle,
      env: { OMNIHUB_NETSUITE_CREDENTIALS: sandboxes.netsuiteCredentials, ...process.env },
      onFunctionLog: (name, line) => {
        void appendFile(join(logDir, `${name}.log`), `${toJsonLogLine(name, line)}\n`);
      },
      log: {
        info: (message, details) => say(`omnihub: ${message} ${details ? JSON.stringify(details) : ''}`),
        warn: (message, details) => say(`omnihub: WARN ${message} ${details ? JSON.stringify(details) : ''}`),
        error: (message, details) =>
          say(`omnihub: ERROR ${message} ${details ? JSON.stringify(details) : ''}`),
      },
    });
  } catch (error) {
    // Nothing may keep running when the boot fails: close the sandboxes and say why (the state stays as it was).
    state.abandon();
    await sandboxes.close();
    rmSync(lockFile, { force: true });
    const { code, port: busy } = error as NodeJS.ErrnoException & { port?: number };
    // A port taken between the check and the boot (another program was quicker): named with its setting.
    if (code === 'EADDRINUSE' && typeof busy === 'number') return refuse(await portInUseMessage(port, busy));
    return refuse((error as Error).message);
  }
}

const webhook = cloud.template
  .ofType('AWS::ApiGatewayV2::Route')
  .map((route) => String(route.properties.RouteKey));
say('');
say(
  `Omnihub local cloud is up in ${((Date.now() - started) / 1000).toFixed(1)} s (${stackName}${fresh ? ', fresh state' : `, state in ${shownDir}/`})`,
);
say('');
say(`  API           ${cloud.url}   routes: ${webhook.join(', ')}`);
say(`  health        ${cloud.url}/_local/health`);
say(`  events        ${cloud.url}/_local/events[?detail-type=OrderCreated&source=omnihub.shopify]`);
say(`  queues        ${cloud.url}/_local/queues`);
say(`  executions    ${cloud.url}/_local/executions[?stateMachine=name]`);
say(`  alarms        ${cloud.url}/_local/alarms   notifications: ${cloud.url}/_local/notifications`);
say(`  IAM denials   ${cloud.url}/_local/iam`);
if (cloud.chaos) {
  say(
    `  chaos         ${cloud.url}/_local/chaos   (duplicates ${cloud.chaos.duplicateRate * 100} %, reordering ${cloud.chaos.reorderRate * 100} %, PutEvents failures ${cloud.chaos.putEventsFailureRate * 100} %, seed ${cloud.chaos.seed})`,
  );
}
for (const name of sandboxes.names) say(`  sandbox       ${cloud.url}/_sandbox/${name}/_control/state`);
say(
  `  AWS services  Lambda, EventBridge, Step Functions, CloudWatch, Secrets Manager, SSM: ${cloud.endpoints.aws}   SQS: ${cloud.endpoints.sqs}   DynamoDB: ${cloud.endpoints.dynamodb}`,
);
say(`  function logs ${shownDir}/logs/<function>.log (JSON lines)`);
say(`  status        ${opsCommand(port)} status   (per flow: events, queues, booked, parked)`);
say('');
say('Ctrl-C to stop.');

let stopping = 0;
const stop = async () => {
  // Another Ctrl-C while the drain runs (a second later at least: one keypress may reach us twice through
  // wrappers) stops at once: 'exit' kills DynamoDB Local (which ignores SIGINT so that it outlives the drain)
  // and the state is as the last periodic flush left it, at most a second old.
  if (stopping) {
    if (Date.now() - stopping < 1000) return;
    say('omnihub: stopping at once (Ctrl-C again): state as last saved, at most a second old.');
    process.exit(130);
  }
  stopping = Date.now();
  say('\nomnihub: stopping… (Ctrl-C again to stop at once)');
  // The hub first: the sandboxes' snapshot must come after the last call the hub makes to them (a document
  // the ERP booked after its snapshot would be lost while the hub remembers it as booked).
  await parkedWatch?.stop();
  await cloud.stop();
  await sandboxes.close();
  state.close();
  rmSync(lockFile, { force: true });
  say(`omnihub: stopped, state saved in ${shownDir}/state.`);
  process.exit(0);
};
onStopSignal = () => void stop();
