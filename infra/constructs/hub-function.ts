import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { LogLevel } from '../config/environments.ts';
import { BUNDLE_ALIASES, HUB_BUNDLING } from './bundling.ts';
import { HubKey } from './hub-key.ts';

/** The handler module of `functions/<name>/`. */
export const functionEntry = (name: string): string =>
  fileURLToPath(new URL(`../../functions/${name}/handler.ts`, import.meta.url));

/** What every function of one environment shares: bound once by the stack, spread into each function. */
export interface HubFunctionDefaults {
  readonly logRetention: RetentionDays;
  /** Of the function's log group. */
  readonly removalPolicy: RemovalPolicy;
  readonly logLevel: LogLevel;
}

export interface HubFunctionProps extends HubFunctionDefaults {
  /** Path of the handler module: `functionEntry('<name>')` for `functions/<name>/handler.ts`. */
  readonly entry: string;
  readonly description: string;
  /** Powertools service name; also the log and metric dimension. */
  readonly serviceName: string;
  /** The function's own variables, added to Powertools' and `NODE_OPTIONS`. @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  /** @default 512 MB — arm64 CPU scales with memory; 512 keeps cold starts short. */
  readonly memorySize?: number;
  /** @default none (account concurrency) */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * Every Lambda of the hub: Node.js 24 on arm64, an ESM bundle minified with source maps (bundled by the
 * local esbuild, never Docker), active tracing, JSON logs into an explicit log group with retention
 * (encrypted with the hub key when the environment has one),
 * Powertools configured through its environment variables.
 */
export class HubFunction extends NodejsFunction {
  readonly logGroupResource: LogGroup;

  constructor(scope: Construct, id: string, props: HubFunctionProps) {
    const encryptionKey = HubKey.of(scope);
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
      ...(encryptionKey ? { encryptionKey } : {}),
    });
    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      // Active tracing is set below with its own policy, not through `tracing` (which would add the
      // X-Ray wildcard to the default policy, where it would hide any later wildcard grant).
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: 'Omnihub',
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: HUB_BUNDLING.target,
        minify: HUB_BUNDLING.minify,
        sourceMap: HUB_BUNDLING.sourceMap,
        sourcesContent: HUB_BUNDLING.sourcesContent,
        mainFields: [...HUB_BUNDLING.mainFields],
        externalModules: [...HUB_BUNDLING.externalModules],
        forceDockerBundling: false,
        banner: HUB_BUNDLING.banner,
        esbuildArgs: Object.fromEntries(
          Object.entries(BUNDLE_ALIASES).map(([from, to]) => [`--alias:${from}`, to]),
        ),
      },
    });
    this.logGroupResource = logGroup;

    const cfnFunction = this.node.defaultChild as CfnFunction;
    cfnFunction.tracingConfig = { mode: Tracing.ACTIVE };
    const tracingPolicy = new Policy(this, 'XRayTracing', {
      statements: [
        new PolicyStatement({
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      ],
    });
    this.role?.attachInlinePolicy(tracingPolicy);
    // Traces from the first invocation on: the function waits for its tracing permission.
    cfnFunction.node.addDependency(tracingPolicy);
    Validations.of(tracingPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions (Service Authorization Reference: AWS X-Ray); this policy holds nothing else.',
    });

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'The AWS managed basic execution role only allows writing to CloudWatch Logs; the log group is explicit.',
    });
  }
}
