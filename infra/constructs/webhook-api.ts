import { Duration, Lazy, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnStage,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HubFunctionDefaults } from './hub-function.ts';
import { HubKey } from './hub-key.ts';
import { WebhookEdge } from './webhook-edge.ts';

/**
 * JSON access log built only from HTTP API `$context` variables (the REST API standard fields include
 * `$context.resourcePath`, which HTTP APIs do not define).
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
 */
export const HTTP_API_ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    extendedRequestId: '$context.extendedRequestId',
    ip: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    requestTime: '$context.requestTime',
    requestTimeEpoch: '$context.requestTimeEpoch',
    httpMethod: '$context.httpMethod',
    routeKey: '$context.routeKey',
    path: '$context.path',
    protocol: '$context.protocol',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationStatus: '$context.integrationStatus',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    error: '$context.error.message',
  }),
);

/**
 * Vendors send correctly signed, well-formed deliveries: a handful of 4xx is noise, a steady stream is
 * an attack, a secret not stored after a rotation, or a vendor change. A plain metric (no metric
 * math), so the local cloud evaluates it too.
 */
export const CLIENT_ERRORS_PER_5_MINUTES = 50;

export interface WebhookApiProps {
  /** Steady-state and burst requests per second, for each route separately and for the stage. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * AWS WAF in front of the API (operator config `edge.waf.webAclArn`): CloudFront with the web ACL, and
   * routes that refuse requests that did not come through it (see `WebhookEdge`). @default none
   */
  readonly edge?: { readonly webAclArn: string; readonly functionDefaults: HubFunctionDefaults };
}

/**
 * The public HTTP API (payload format 2.0) that vendors post webhooks to. Requests are authenticated by
 * the vendor's signature inside the function, which is the only scheme Shopify and Square support.
 * Each route has its own throttle (a flood on one vendor's route cannot get the other's deliveries
 * throttled until the vendor drops the subscription), the stage is access-logged as JSON, and an
 * alarm watches the number of 4xx answers (refused signatures, malformed bodies, throttling with 429).
 *
 * AWS WAF cannot be attached to an HTTP API (WAF protects REST APIs, CloudFront, ALB, AppSync, …);
 * with `edge`, CloudFront with the web ACL fronts the API ({@link WebhookEdge}), vendors are given its
 * URLs ({@link WebhookApi.url}) and the routes refuse what did not come through it. See README, "Security".
 */
export class WebhookApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** CloudFront and WAF in front of the API, when the environment has them. */
  readonly edge?: WebhookEdge;
  /** More than {@link CLIENT_ERRORS_PER_5_MINUTES} 4xx answers in 5 minutes. */
  readonly clientErrorAlarm: Alarm;
  /** CloudFormation's `RouteSettings` is a JSON map keyed by route key, written as CloudFormation names it. */
  private readonly routeThrottles: Record<
    string,
    { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }
  > = {};

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.api = new HttpApi(this, 'Api', {
      createDefaultStage: false,
      description: 'Omnihub webhook ingress',
    });
    const encryptionKey = HubKey.of(this);
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
      ...(encryptionKey ? { encryptionKey } : {}),
    });
    this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: HTTP_API_ACCESS_LOG_FORMAT,
      },
    });
    (this.stage.node.defaultChild as CfnStage).routeSettings = Lazy.any({
      produce: () => (Object.keys(this.routeThrottles).length > 0 ? this.routeThrottles : undefined),
    });
    this.throttle = props.throttle;
    if (props.edge) {
      this.edge = new WebhookEdge(this, 'Edge', {
        api: this.api,
        webAclArn: props.edge.webAclArn,
        functionDefaults: props.edge.functionDefaults,
      });
    }

    this.clientErrorAlarm = new Alarm(this, 'ClientErrorAlarm', {
      alarmDescription:
        'Webhook requests answered 4xx (bad signatures, malformed bodies or throttling 429) at more than 50 in 5 minutes: a flood, a rotated secret not stored, or a vendor change',
      metric: new Metric({
        namespace: 'AWS/ApiGateway',
        metricName: '4xx',
        dimensionsMap: { ApiId: this.api.apiId, Stage: '$default' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      threshold: CLIENT_ERRORS_PER_5_MINUTES,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  private readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };

  /** The full URL of a route: CloudFront's when the API is behind WAF, else the default stage's. */
  url(path: string): string {
    return this.edge ? this.edge.url(path) : `${this.api.apiEndpoint}${path}`;
  }

  /** Adds a POST route authenticated by the vendor's signature inside `handler`. */
  addWebhookRoute(path: string, handler: IFunction): void {
    this.routeThrottles[`POST ${path}`] = {
      ThrottlingRateLimit: this.throttle.rateLimit,
      ThrottlingBurstLimit: this.throttle.burstLimit,
    };
    const [route] = this.api.addRoutes({
      path,
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration(`${handler.node.id}Integration`, handler),
      ...(this.edge ? { authorizer: this.edge.authorizer } : {}),
    });
    if (route && !this.edge) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Vendor webhooks cannot send IAM or JWT credentials; each request is authenticated by its HMAC signature in the function.',
      });
    }
  }
}
