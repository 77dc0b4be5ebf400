import { fileURLToPath } from 'node:url';
import { App, Duration, Validations } from 'aws-cdk-lib';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import {
  DefinitionBody,
  IntegrationPattern,
  JsonPath,
  LogLevel,
  StateMachine,
  Succeed,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { buildApp } from '#infra/app.ts';
import { BufferedConsumer } from '#infra/constructs/buffered-consumer.ts';
import { HubFunction } from '#infra/constructs/hub-function.ts';
import { HubTable } from '#infra/constructs/hub-table.ts';
import { type CachedAssembly, cachedAssembly, PORT_PLACEHOLDER } from './assembly-cache.ts';

/**
 * The dev stack exactly as `cdk deploy -c env=dev` builds it, plus a probe: OrderCreated →
 * rule → queue (maxReceiveCount 2, short visibility) → probe function, and a workflow that waits on a
 * task token. Synthesized into `outdir` like the real app (bundled assets, cdk-nag on); `context`
 * overrides the `-c` values (e.g. `squareBaseUrl` pointing at a sandbox). The local-cloud e2e test and
 * `npm run bench -- local` run on it.
 */
export function synthProbeStack(
  outdir: string,
  context: Readonly<Record<string, string>> = {},
): { stackName: string } {
  // The ERP and POS clients must never reach outside this machine: a closed loopback port (connection
  // refused) unless the caller points them at a sandbox.
  const app = new App({
    outdir,
    context: {
      env: 'dev',
      netsuiteBaseUrl: 'http://127.0.0.1:9',
      squareBaseUrl: 'http://127.0.0.1:9',
      shopifyBaseUrl: 'http://127.0.0.1:9',
      ...context,
    },
  });
  // The probe's consumer and workflow go in before the monitoring walks the stack, so they get alarms.
  const { stack } = buildApp(app, undefined, (stack, config) => {
    const probeTable = new HubTable(stack, 'ProbeTable', {
      partitionKey: 'pk',
      pointInTimeRecovery: false,
      removalPolicy: config.removalPolicy,
    });
    const probe = new HubFunction(stack, 'ProbeFunction', {
      entry: fileURLToPath(new URL('./probe/handler.ts', import.meta.url)),
      description: 'e2e probe consumer',
      serviceName: 'probe',
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
      logLevel: 'INFO',
      timeout: Duration.seconds(2),
      environment: { PROBE_TABLE_NAME: probeTable.tableName },
    });
    probeTable.grantReadWriteData(probe);
    const consumer = new BufferedConsumer(stack, 'Probe', {
      handler: probe,
      batchSize: 10,
      maxConcurrency: 2,
      maxReceiveCount: 2,
      // Above the function timeout (Lambda requires it) and short, so retries and redrive are quick.
      visibilityTimeout: Duration.seconds(3),
      removalPolicy: config.removalPolicy,
    });
    consumer.subscribe(stack.bus, 'OrdersToProbe', {
      source: ['omnihub.shopify'],
      detailType: ['OrderCreated'],
    });

    const awaitApproval = new LambdaInvoke(stack, 'AwaitApproval', {
      lambdaFunction: probe,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: TaskInput.fromObject({
        kind: 'task-token',
        token: JsonPath.taskToken,
        input: JsonPath.entirePayload,
      }),
      resultPath: '$.approval',
      taskTimeout: Timeout.duration(Duration.seconds(60)),
    });
    const workflow = new StateMachine(stack, 'ProbeWorkflow', {
      definitionBody: DefinitionBody.fromChainable(awaitApproval.next(new Succeed(stack, 'Approved'))),
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(stack, 'ProbeWorkflowLogs', {
          removalPolicy: config.removalPolicy,
          retention: config.logRetention,
        }),
        level: LogLevel.ALL,
      },
    });
    Validations.of(workflow).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray and CloudWatch Logs delivery actions support no resource-level permissions.',
    });
    Validations.of(workflow).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::<ProbeFunctionD0DC4D31.Arn>:*]',
      reason: 'lambda:InvokeFunction on the probe function and its versions (CDK grant for LambdaInvoke).',
    });
  });
  app.synth();
  return { stackName: stack.stackName };
}

/**
 * `synthProbeStack` through the assembly cache (local/harness/assembly-cache.ts): one synth for every e2e file
 * that runs the probe stack with the same context. `context` is given the base URL standing for
 * `http://127.0.0.1:<port>` (a sandbox of the caller's), whose port the caller's copy of the template gets.
 */
export function cachedProbeStack(
  options: { context?: (baseUrl: string) => Record<string, string>; port?: number } = {},
): CachedAssembly {
  return cachedAssembly({
    key: { harness: 'probe-stack', context: options.context?.(`http://127.0.0.1:${PORT_PLACEHOLDER}`) ?? {} },
    ...(options.port === undefined ? {} : { port: options.port }),
    extraSources: ['local/harness/probe-stack.ts', 'local/harness/probe'],
    synth: (outdir, placeholderUrl) => synthProbeStack(outdir, options.context?.(placeholderUrl) ?? {}),
  });
}

/**
 * The dev stack as `npm start` synthesizes it with its vendor APIs at a closed loopback port (no sandbox),
 * through the assembly cache.
 */
export function cachedDevStack(): CachedAssembly {
  return cachedAssembly({
    key: { harness: 'dev-stack', vendors: 'http://127.0.0.1:9' },
    extraSources: ['local/harness/probe-stack.ts'],
    synth: (outdir) => {
      const app = new App({
        outdir,
        context: {
          env: 'dev',
          netsuiteBaseUrl: 'http://127.0.0.1:9',
          squareBaseUrl: 'http://127.0.0.1:9',
          shopifyBaseUrl: 'http://127.0.0.1:9',
        },
      });
      const { stack } = buildApp(app);
      app.synth();
      return { stackName: stack.stackName };
    },
  });
}
