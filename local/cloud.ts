import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LOCAL_ROLE_METADATA_KEY } from '#infra/config/local-roles.ts';
import { LocalHttpApi } from './apigw/http-api.ts';
import { type DynamoDbCall, startDynamoDbProxy } from './aws/dynamodb-proxy.ts';
import { serveAwsEndpoint } from './aws/endpoint.ts';
import { AwsJsonRouter } from './aws/json-protocol.ts';
import { Chaos, type ChaosOptions, DEFAULT_CHAOS } from './chaos.ts';
import { handleCloudWatchHttp } from './cloudwatch/api.ts';
import { LocalCloudWatch } from './cloudwatch/service.ts';
import { createTables } from './dynamodb/tables.ts';
import type { PersistedDelivery } from './eventbridge/bus.ts';
import { LocalEventBridge } from './eventbridge/bus.ts';
import type { ReplayRecord } from './eventbridge/replay.ts';
import { readRequestBody, sendJson } from './http.ts';
import { jsonProtocolGuard } from './iam/guards.ts';
import { LocalIam } from './iam/local-iam.ts';
import { LambdaApi } from './lambda/api.ts';
import { AsyncInvoker, asyncInvokeConfigs, type PersistedAsyncEvent } from './lambda/async.ts';
import { LambdaRuntime } from './lambda/runtime.ts';
import { LocalLambda } from './lambda/service.ts';
import { assertMappingPermissions, SqsPoller, sqsMappingConfig } from './lambda/sqs-poller.ts';
import { LocalSchedulerApi } from './scheduler/api.ts';
import { LocalParameters, LocalSecrets } from './secrets.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from './services/dynamodb-local.ts';
import { freePort } from './services/ports.ts';
import { LocalSqs } from './sqs/service.ts';
import { type QueueSnapshot, trackQueues } from './state/queues.ts';
import { LocalStateStore } from './state/store.ts';
import type { PersistedExecution } from './stepfunctions/service.ts';
import { LocalStepFunctions } from './stepfunctions/service.ts';
import { type LocalTemplate, loadTemplate } from './template.ts';
import type { LocalLogger, LocalRuntime } from './types.ts';
import { LocalXrayDaemon } from './xray/daemon.ts';

export interface LocalCloudOptions {
  /** The cloud assembly (`cdk.out`) holding `<stackName>.template.json` and the Lambda assets. */
  readonly assemblyDir: string;
  readonly stackName: string;
  /** HTTP port for the API routes, `/_local/*` and `/_sandbox/*`; 0 picks free ports for everything. */
  readonly port: number;
  /**
   * Where the local state persists (DynamoDB data, the bus journal, queue contents, pending EventBridge
   * retries, Step Functions executions, secrets and parameters written at run time); omitted = in memory.
   * The store is opened for this stack; `state` passes one opened by the caller instead (`npm start` opens it
   * for the stack and the sandboxes' seed, and the sandboxes keep their sections in it too).
   */
  readonly stateDir?: string;
  readonly state?: LocalStateStore;
  /** Wipe `stateDir` first. */
  readonly fresh?: boolean;
  /** Extra request handler mounted under `/_sandbox/` (the sandbox systems). */
  readonly sandboxes?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** Environment read for local secret values (OMNIHUB_SHOPIFY_SECRET, …). */
  readonly env?: NodeJS.ProcessEnv;
  /** Step Functions Wait states: 1 = real time. */
  readonly waitTimeScale?: number;
  /**
   * Multiplies the Period of every CloudWatch alarm of the template (the same for all): 1 = real time; tests
   * use e.g. 0.02 so a 60-second period lasts 1.2 s.
   */
  readonly alarmTimeScale?: number;
  readonly onFunctionLog?: (functionName: string, line: string) => void;
  /** Told every call the local DynamoDB answered (tests: a table's write history). */
  readonly onDynamoDbCall?: (call: DynamoDbCall) => void;
  readonly log?: LocalLogger;
  /** Called as soon as the HTTP port listens (before boot completes: requests get 503 until then). */
  readonly onListening?: (url: string) => void;
  /**
   * Duplicated and reordered SQS and EventBridge deliveries and failed PutEvents entries, as AWS allows them
   * (`local/chaos.ts`): `true` for the `--chaos` defaults (2 % duplicates, 5 % reordering, 1 % entry failures), or
   * rates of your own. @default off
   */
  readonly chaos?: boolean | ChaosOptions;
  /**
   * Scale of the waits of asynchronous Lambda invocations (1 = Lambda's 1 and 2 minutes between retries and
   * 1 s – 5 min back-off for throttles); tests pass a small one. @default 1
   */
  readonly lambdaAsyncDelayScale?: number;
  /**
   * Work the caller still does before the cloud counts as ready (`npm start`'s mapping onboarding): until
   * `ready()` is called, `/_local/health` answers 503 `{ status: 'warming', waitingFor }` with its usual body,
   * so a client that waits for 200 never meets a half-prepared cloud. @default none (ready once booted)
   */
  readonly warming?: readonly string[];
}

export interface LocalCloud {
  /** `http://127.0.0.1:<port>` — API routes, `/_local/*`, `/_sandbox/*`. */
  readonly url: string;
  readonly endpoints: { readonly aws: string; readonly sqs: string; readonly dynamodb: string };
  /** The environment a function gets: what a script needs to reach the local services with the SDK. */
  readonly awsEnvironment: Readonly<Record<string, string>>;
  readonly template: LocalTemplate;
  readonly lambda: LambdaRuntime;
  readonly sqs: LocalSqs;
  readonly eventBridge: LocalEventBridge;
  readonly stepFunctions: LocalStepFunctions;
  readonly cloudWatch: LocalCloudWatch;
  /** The IAM of the template: function credentials, policies, denials (`GET /_local/iam`). */
  readonly iam: LocalIam;
  /** The Lambda service: invocations by a caller, synchronous and asynchronous. */
  readonly lambdaService: LocalLambda;
  /** The chaos source when chaos is on (its counters: `GET /_local/chaos`). */
  readonly chaos: Chaos | undefined;
  readonly bootMs: number;
  /** Ends the `warming` phase: `/_local/health` answers 200 from now on. */
  ready(): void;
  /** Resolves when no event delivery or execution is pending. */
  idle(): Promise<void>;
  /** Pauses or resumes a function's SQS event source mappings (UpdateEventSourceMapping Enabled). */
  setEventSourceMappingsEnabled(functionNameOrArn: string, enabled: boolean): Promise<void>;
  stop(): Promise<void>;
}

const silent: LocalLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** Hosts a local function may reach: this machine only. */
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/**
 * The local cloud never lets a function reach outside this machine: a function whose environment
 * holds an http(s) URL to any other host (a vendor API left at its production default) stops the
 * boot, naming the variable, instead of sending traffic out.
 */
export function assertLoopbackOnly(template: LocalTemplate): void {
  for (const fn of template.ofType('AWS::Lambda::Function')) {
    const environment = fn.properties.Environment as { Variables?: Record<string, unknown> } | undefined;
    for (const [name, value] of Object.entries(environment?.Variables ?? {})) {
      for (const match of String(value).matchAll(/https?:\/\/(\[[^\]]+\]|[^/:"'\s]+)/g)) {
        const host = match[1] ?? '';
        if (!LOOPBACK.test(host)) {
          throw new Error(
            `${fn.logicalId}: ${name} points outside this machine (${host}); the local cloud runs against local endpoints only — synthesize with a local override such as -c netsuiteBaseUrl=http://127.0.0.1:3000/_sandbox/netsuite`,
          );
        }
      }
    }
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * Boots the synthesized template on this machine: DynamoDB Local with the template's tables, the SQS
 * emulator with its queues and redrive policies, the template's functions (each isolated, warm, with
 * its template environment and `AWS_ENDPOINT_URL_*` pointing here), event source mappings, the bus
 * with its rules and archive, the state machines, the HTTP API routes and the local secrets.
 */
export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const started = Date.now();
  const log = options.log ?? silent;
  const ports =
    options.port === 0
      ? { main: 0, aws: await freePort(), sqs: await freePort(), dynamodb: await freePort() }
      : { main: options.port, aws: options.port + 1, sqs: options.port + 2, dynamodb: options.port + 3 };
  // DynamoDB Local listens privately; the public DynamoDB port is the IAM front end.
  const dynamodbLocalPort = await freePort();

  // Opened first: state of another stack stops the boot before anything starts.
  const state =
    options.state ??
    (options.stateDir
      ? LocalStateStore.open(options.stateDir, {
          fresh: options.fresh ?? false,
          identity: { stack: options.stackName },
          log,
        })
      : undefined);
  const stateDir = state?.dir;
  if (stateDir) mkdirSync(join(stateDir, 'dynamodb'), { recursive: true });
  const dynamodbStarting = startDynamoDbLocal({
    port: dynamodbLocalPort,
    ...(stateDir ? { dbPath: join(stateDir, 'dynamodb') } : {}),
  });

  // Until everything is up, every request gets 503 (health included), never a hanging socket.
  let serve: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  let serveAws: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  const starting = (res: ServerResponse) =>
    sendJson(res, 503, { status: 'starting', message: 'the local cloud is starting' });
  const mainServer = createServer((req, res) => void (serve ? serve(req, res) : starting(res)));
  const awsServer = createServer((req, res) => void (serveAws ? serveAws(req, res) : starting(res)));
  const mainPort = await listen(mainServer, ports.main);
  const awsPort = await listen(awsServer, ports.aws);
  const url = `http://127.0.0.1:${mainPort}`;
  options.onListening?.(url);
  const endpoints = {
    aws: `http://127.0.0.1:${awsPort}`,
    sqs: `http://127.0.0.1:${ports.sqs}`,
    dynamodb: `http://127.0.0.1:${ports.dynamodb}`,
  };

  const template = loadTemplate(options.assemblyDir, options.stackName, {
    sqsEndpoint: endpoints.sqs,
    apiEndpoint: url,
  });
  let iam: LocalIam;
  try {
    assertLoopbackOnly(template);
    // Refuses the boot on a policy it could not evaluate.
    iam = new LocalIam(template, { log });
  } catch (error) {
    mainServer.close();
    awsServer.close();
    await (await dynamodbStarting.catch(() => undefined))?.stop();
    throw error;
  }
  const awsEnvironment: Record<string, string> = {
    AWS_REGION: template.region,
    AWS_DEFAULT_REGION: template.region,
    AWS_ACCOUNT_ID: template.accountId,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.aws,
    AWS_ENDPOINT_URL_SFN: endpoints.aws,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.aws,
    AWS_ENDPOINT_URL_SSM: endpoints.aws,
    AWS_ENDPOINT_URL_CLOUDWATCH: endpoints.aws,
    AWS_ENDPOINT_URL_LAMBDA: endpoints.aws,
    AWS_ENDPOINT_URL_SCHEDULER: endpoints.aws,
  };
  const chaos =
    options.chaos === undefined || options.chaos === false
      ? undefined
      : new Chaos(options.chaos === true ? DEFAULT_CHAOS : options.chaos);

  let dynamodb: DynamoDbLocal | undefined;
  let sqs: LocalSqs | undefined;
  let cloudWatch: LocalCloudWatch | undefined;
  let xray: LocalXrayDaemon | undefined;
  let lambda: LambdaRuntime | undefined;
  let dynamodbProxy: Awaited<ReturnType<typeof startDynamoDbProxy>> | undefined;
  const pollers: SqsPoller[] = [];
  try {
    xray = await LocalXrayDaemon.start(0, log);
    const xrayDaemon = xray;
    sqs = await LocalSqs.start(template, ports.sqs, { iam, ...(chaos ? { chaos } : {}) });
    const queueState = trackQueues(sqs.service, log);
    const savedQueues = state?.restore<QueueSnapshot>('sqs');
    if (savedQueues) log.info('local state: queue contents restored', queueState.restore(savedQueues));
    lambda = new LambdaRuntime(template, {
      credentials: (functionName) => iam.credentialsFor(functionName),
      baseEnvironment: {
        ...awsEnvironment,
        TZ: 'UTC',
        // Tracing runs as on Lambda: the runtime variables the X-Ray SDK and the Powertools tracer read (the
        // Lambda "Defined runtime environment variables"), the daemon address pointing at the local daemon,
        // and a trace header per invocation (local/lambda/worker.ts).
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
        AWS_XRAY_DAEMON_ADDRESS: xrayDaemon.address,
        _AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1',
        _AWS_XRAY_DAEMON_PORT: xrayDaemon.address.split(':')[1] ?? '2000',
      },
      // Function logs: embedded metrics become CloudWatch datapoints, then the caller's log sink.
      onLog: (name, line) => {
        cloudWatch?.ingestLog(name, line);
        options.onFunctionLog?.(name, line);
      },
      log,
    });
    const lambdaRuntime = lambda;
    const sqsService = sqs;
    let putEvents: LocalRuntime['putEvents'] = async () => {
      throw new Error('EventBridge not started');
    };
    const lambdaService: LocalLambda = new LocalLambda(
      lambdaRuntime,
      new AsyncInvoker({
        invoke: (name, payload) => lambdaRuntime.invoke(name, payload),
        functionArn: (name) => lambdaRuntime.resolve(name)?.arn ?? name,
        configs: asyncInvokeConfigs(template),
        destinations: {
          sendMessage: (queueArn, body, sendOptions) => sqsService.send(queueArn, body, sendOptions),
          invokeAsync: async (arn, payload, caller) => lambdaService.invokeAsync(arn, payload, caller),
          putEvent: async (busArn, entry, caller) => {
            iam.assertAllowed(caller, [{ action: 'events:PutEvents', resource: busArn }]);
            return putEvents([{ ...entry, EventBusName: busArn }]);
          },
        },
        log,
        delayScale: options.lambdaAsyncDelayScale ?? 1,
      }),
      iam,
    );

    // Services reach each other only through this interface (and the SDK for service integrations).
    let eventBridge: LocalEventBridge | undefined;
    let stepFunctions: LocalStepFunctions | undefined;
    const runtime: LocalRuntime = {
      template,
      log,
      invokeFunction: (name, payload) => lambdaRuntime.invoke(name, payload),
      invokeFunctionAsync: async (name, payload, caller) => ({
        requestId: lambdaService.invokeAsync(name, payload, caller),
      }),
      authorize: (caller, action, resource) => iam.assertAllowed(caller, [{ action, resource }]),
      sendMessage: (queue, body, sendOptions) => sqsService.send(queue, body, sendOptions),
      startExecution: (arn, input, name) => {
        if (!stepFunctions) throw new Error('Step Functions not started');
        return stepFunctions.startExecution(arn, input, name);
      },
      putEvents: async (entries) => {
        if (!eventBridge) throw new Error('EventBridge not started');
        return eventBridge.putEvents(entries);
      },
    };
    eventBridge = new LocalEventBridge(template, runtime, {
      ...(stateDir ? { archiveFile: join(stateDir, 'events.jsonl') } : {}),
      ...(chaos ? { chaos } : {}),
    });
    putEvents = runtime.putEvents;
    stepFunctions = new LocalStepFunctions(template, runtime, {
      waitTimeScale: options.waitTimeScale ?? 1,
      endpoints: { dynamodb: endpoints.dynamodb },
    });
    const bus = eventBridge;
    const machines = stepFunctions;
    const metrics = new LocalCloudWatch(
      template,
      {
        queues: () => sqsService.describe(),
        functions: () => lambdaRuntime.statistics(),
        executions: () => machines.executions(),
      },
      { alarmTimeScale: options.alarmTimeScale ?? 1, log },
    );
    cloudWatch = metrics;

    const router = new AwsJsonRouter();
    router.use(jsonProtocolGuard(iam));
    router.register('AWSEvents', (operation, input) => bus.handle(operation, input));
    router.register('AWSStepFunctions', (operation, input) => machines.handle(operation, input));
    const secrets = new LocalSecrets(template, options.env ?? process.env);
    const parameters = new LocalParameters(template);
    router.register('secretsmanager', secrets.handle);
    router.register('AmazonSSM', parameters.handle);
    const lambdaApi = new LambdaApi(lambdaService, template, iam);
    const schedulerApi = new LocalSchedulerApi(template, bus, iam);
    serveAws = (req, res) =>
      serveAwsEndpoint(req, res, {
        router,
        lambda: lambdaApi,
        other: async (request, response, body) =>
          (await schedulerApi.handle(request, response, body)) ||
          handleCloudWatchHttp(metrics, request, response, body),
      });

    dynamodb = await dynamodbStarting;
    dynamodbProxy = await startDynamoDbProxy({
      port: ports.dynamodb,
      upstream: dynamodb.endpoint,
      iam,
      ...(options.onDynamoDbCall ? { observe: options.onDynamoDbCall } : {}),
    });
    const dynamodbClient = new DynamoDBClient({
      endpoint: endpoints.dynamodb,
      region: template.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await createTables(dynamodbClient, template);
    dynamodbClient.destroy();

    for (const mapping of template.ofType('AWS::Lambda::EventSourceMapping')) {
      if (!String(mapping.properties.EventSourceArn).startsWith('arn:aws:sqs:')) continue;
      const config = sqsMappingConfig(mapping, (arn) => sqsService.queueUrl(arn), 2);
      // Lambda refuses such a mapping: records would reappear while still being processed.
      const queue = template.byArn(config.queueArn);
      const visibility = Number(queue?.properties.VisibilityTimeout ?? 30);
      const functionTimeout = (lambdaRuntime.resolve(config.functionName)?.timeoutMs ?? 3000) / 1000;
      if (visibility < functionTimeout) {
        throw new Error(
          `InvalidParameterValueException: Queue visibility timeout: ${visibility} seconds is less than Function timeout: ${functionTimeout} seconds (${mapping.logicalId})`,
        );
      }
      // Lambda reads the queue with the function's execution role.
      assertMappingPermissions(mapping.logicalId, config, (action, resource) => {
        const { denial } = iam.check(
          { kind: 'function', functionName: config.functionName },
          { action, resource },
        );
        return denial === undefined;
      });
      const poller = new SqsPoller(
        config,
        sqsService.client,
        (name, event) => lambdaRuntime.invoke(name, event),
        template.region,
        log,
      );
      pollers.push(poller);
      poller.start();
    }
    // The local state: what an earlier run left, then snapshots of it from now on (see local/state/store.ts).
    const savedSecrets = state?.restore<Parameters<LocalSecrets['restore']>[0]>('secrets');
    if (savedSecrets) secrets.restore(savedSecrets);
    const savedParameters = state?.restore<Parameters<LocalParameters['restore']>[0]>('parameters');
    if (savedParameters) parameters.restore(savedParameters);
    const savedExecutions = state?.restore<PersistedExecution[]>('stepfunctions');
    if (savedExecutions) machines.restore(savedExecutions);
    const savedReplays = state?.restore<ReplayRecord[]>('eventbridge-replays');
    if (savedReplays) bus.restoreReplays(savedReplays);
    const savedDeliveries = state?.restore<PersistedDelivery[]>('eventbridge-deliveries');
    if (savedDeliveries?.length) {
      log.info('local state: EventBridge deliveries resumed', { deliveries: savedDeliveries.length });
      bus.resumeDeliveries(savedDeliveries);
    }
    const savedAsyncEvents = state?.restore<PersistedAsyncEvent[]>('lambda-async');
    if (savedAsyncEvents?.length) {
      log.info('local state: asynchronous invocations resumed', { events: savedAsyncEvents.length });
      lambdaService.events.resume(savedAsyncEvents);
    }
    const stateSections = [
      { name: 'sqs', snapshot: () => queueState.snapshot() },
      { name: 'eventbridge-deliveries', snapshot: () => bus.unfinishedDeliveries() },
      { name: 'lambda-async', snapshot: () => lambdaService.events.snapshot() },
      { name: 'eventbridge-replays', snapshot: () => bus.replaySnapshot() },
      { name: 'stepfunctions', snapshot: () => machines.snapshot() },
      { name: 'secrets', snapshot: () => secrets.snapshot() },
      { name: 'parameters', snapshot: () => parameters.snapshot() },
    ];
    for (const section of stateSections) state?.register(section);
    bus.start();
    metrics.start();

    const api = new LocalHttpApi(template, (arn, event, sourceArn) =>
      lambdaService.invoke(arn, event, {
        kind: 'service',
        service: 'apigateway.amazonaws.com',
        sourceArn,
        sourceAccount: template.accountId,
      }),
    );
    const bootMs = Date.now() - started;
    let waitingFor: readonly string[] = options.warming ?? [];
    const handleMain = async (req: IncomingMessage, res: ServerResponse) => {
      try {
        const path = new URL(req.url ?? '/', 'http://localhost').pathname;
        if (path.startsWith('/_sandbox/') && options.sandboxes) {
          if (await options.sandboxes(req, res)) return;
        }
        if (path.startsWith('/_local/')) {
          await localApi(req, res, path);
          return;
        }
        const body = await readRequestBody(req, 10 * 1024 * 1024);
        if (!(await api.handle(req, res, body))) sendJson(res, 404, { message: 'Not Found' });
      } catch (error) {
        log.error('request failed', { error: (error as Error).message });
        if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' });
      }
    };

    const localApi = async (req: IncomingMessage, res: ServerResponse, path: string) => {
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
      switch (path) {
        case '/_local/health':
          return sendJson(res, waitingFor.length > 0 ? 503 : 200, {
            ...(waitingFor.length > 0 ? { status: 'warming', waitingFor } : { status: 'ok' }),
            stack: template.stackName,
            bootMs,
            endpoints: { http: url, ...endpoints },
            functions: [...lambdaRuntime.functions.keys()],
            queues: template.ofType('AWS::SQS::Queue').map((queue) => queue.name),
            tables: template.ofType('AWS::DynamoDB::Table').map((table) => table.name),
            // Resources by their role in the hub (template metadata), for tools that need one of them.
            roles: Object.fromEntries(
              [...template.resources.values()].flatMap((resource) => {
                const role = resource.metadata[LOCAL_ROLE_METADATA_KEY];
                return typeof role === 'string' ? [[role, resource.name]] : [];
              }),
            ),
            rules: template.ofType('AWS::Events::Rule').map((rule) => rule.name),
            stateMachines: template.ofType('AWS::StepFunctions::StateMachine').map((machine) => machine.name),
            routes: api.routes.map((route) => route.routeKey),
            cloudWatch: metrics.counters,
            xray: { daemonAddress: xrayDaemon.address, ...xrayDaemon.counters },
          });
        case '/_local/events':
          return sendJson(
            res,
            200,
            bus.events({
              ...(query.get('detail-type') ? { detailType: query.get('detail-type') as string } : {}),
              ...(query.get('source') ? { source: query.get('source') as string } : {}),
            }),
          );
        case '/_local/queues':
          return sendJson(res, 200, await sqsService.describe());
        case '/_local/functions': {
          const asyncStats = lambdaService.events.statistics();
          return sendJson(
            res,
            200,
            Object.fromEntries(
              Object.entries(lambdaRuntime.statistics()).map(([name, stats]) => [
                name,
                { ...stats, ...(asyncStats[name] ? { async: asyncStats[name] } : {}) },
              ]),
            ),
          );
        }
        case '/_local/iam':
          return sendJson(res, 200, iam.report());
        case '/_local/chaos':
          return sendJson(
            res,
            200,
            chaos
              ? {
                  enabled: true,
                  seed: chaos.seed,
                  rates: {
                    duplicateRate: chaos.duplicateRate,
                    reorderRate: chaos.reorderRate,
                    putEventsFailureRate: chaos.putEventsFailureRate,
                  },
                  counters: chaos.counters,
                }
              : { enabled: false },
          );
        case '/_local/executions': {
          // Step Functions executions, oldest first, optionally of one state machine (by name).
          const name = query.get('stateMachine');
          const arn =
            name === null
              ? undefined
              : template.ofType('AWS::StepFunctions::StateMachine').find((machine) => machine.name === name)
                  ?.arn;
          if (name !== null && arn === undefined)
            return sendJson(res, 404, { message: `no state machine ${name}` });
          return sendJson(
            res,
            200,
            machines.executions(arn).map((execution) => ({
              stateMachine: execution.stateMachineArn.slice(execution.stateMachineArn.lastIndexOf(':') + 1),
              name: execution.name,
              status: execution.status,
              startDate: execution.startDate.toISOString(),
              ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
              executionArn: execution.executionArn,
            })),
          );
        }
        case '/_local/alarms':
          return sendJson(res, 200, metrics.describeForLocal());
        case '/_local/notifications':
          return sendJson(res, 200, metrics.notifications);
        case '/_local/pollers':
          return sendJson(
            res,
            200,
            pollers.map((poller) => poller.stats),
          );
        default:
          return sendJson(res, 404, { message: `unknown local handle ${path}` });
      }
    };

    const dynamodbProcess = dynamodb;
    const dynamodbFront = dynamodbProxy;
    serve = handleMain;
    return {
      url,
      endpoints,
      awsEnvironment,
      template,
      lambda: lambdaRuntime,
      sqs: sqsService,
      eventBridge: bus,
      stepFunctions: machines,
      cloudWatch: metrics,
      iam,
      lambdaService,
      chaos,
      bootMs,
      ready: () => {
        waitingFor = [];
      },
      idle: async () => {
        // Until nothing moves: an async invocation may put events, a delivery may queue an async invocation.
        do {
          await bus.idle();
          await lambdaService.events.idle();
          await bus.idle();
          await machines.idle();
        } while (lambdaService.events.busy);
      },
      setEventSourceMappingsEnabled: async (functionNameOrArn, enabled) => {
        const name = lambdaRuntime.resolve(functionNameOrArn)?.name;
        const matching = pollers.filter((poller) => poller.functionName === name);
        if (matching.length === 0) throw new Error(`no event source mapping for ${functionNameOrArn}`);
        await Promise.all(matching.map((poller) => (enabled ? poller.start() : poller.stop())));
      },
      stop: async () => {
        await metrics.stop();
        bus.stop();
        lambdaService.events.stop();
        await Promise.all(pollers.map((poller) => poller.stop({ abort: true })));
        mainServer.closeAllConnections();
        awsServer.closeAllConnections();
        await Promise.all([
          new Promise((resolve) => mainServer.close(resolve)),
          new Promise((resolve) => awsServer.close(resolve)),
        ]);
        await lambdaRuntime.close();
        await xrayDaemon.close();
        // Nothing moves any more: the final snapshot (in-flight messages and abandoned retries included).
        if (options.state) for (const section of stateSections) state?.retire(section.name);
        else state?.close();
        await sqsService.close();
        await dynamodbFront.close();
        await dynamodbProcess.stop();
      },
    };
  } catch (error) {
    // A boot that failed leaves the saved state as it was.
    if (!options.state) state?.abandon();
    await Promise.all(pollers.map((poller) => poller.stop({ abort: true })));
    await lambda?.close();
    await xray?.close();
    await sqs?.close();
    await dynamodbProxy?.close();
    mainServer.close();
    awsServer.close();
    await (dynamodb ?? (await dynamodbStarting.catch(() => undefined)))?.stop();
    throw error;
  }
}
