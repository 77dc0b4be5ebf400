import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { LocalTemplate } from '../template.ts';
import type { InvokeResult } from '../types.ts';

/** One `AWS::ApiGatewayV2::Route` bound to its Lambda integration. */
export interface HttpRoute {
  readonly routeKey: string;
  readonly method: string;
  readonly path: string;
  readonly pattern: RegExp;
  readonly parameterNames: readonly string[];
  readonly functionArn: string;
  readonly apiId: string;
}

/** API Gateway's payload limit for HTTP APIs. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

const TEXT_TYPES = /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript)|[^;]*\+(json|xml))/i;

function compileRoute(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      const greedy = /^\{(\w+)\+\}$/.exec(segment);
      if (greedy?.[1]) {
        names.push(greedy[1]);
        return '(.+)';
      }
      const parameter = /^\{(\w+)\}$/.exec(segment);
      if (parameter?.[1]) {
        names.push(parameter[1]);
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { pattern: new RegExp(`^${source}$`), names };
}

/** Routes of every HTTP API in the template, most specific first (as API Gateway selects them). */
export function httpRoutes(template: LocalTemplate): HttpRoute[] {
  const integrations = new Map(
    template.ofType('AWS::ApiGatewayV2::Integration').map((integration) => [integration.name, integration]),
  );
  const routes: HttpRoute[] = [];
  for (const route of template.ofType('AWS::ApiGatewayV2::Route')) {
    const routeKey = String(route.properties.RouteKey);
    const target = String(route.properties.Target ?? '');
    const integration = integrations.get(target.replace(/^integrations\//, ''));
    if (!integration) continue;
    const [method = 'ANY', path = '/'] = routeKey === '$default' ? ['ANY', '/{proxy+}'] : routeKey.split(' ');
    const { pattern, names } = compileRoute(path);
    routes.push({
      routeKey,
      method,
      path,
      pattern,
      parameterNames: names,
      functionArn: String(integration.properties.IntegrationUri),
      apiId: String(route.properties.ApiId),
    });
  }
  const specificity = (route: HttpRoute) =>
    route.routeKey === '$default' ? -1 : route.path.split('/').filter((s) => !s.startsWith('{')).length;
  return routes.sort((a, b) => specificity(b) - specificity(a));
}

/** Token bucket with the stage's DefaultRouteSettings (ThrottlingRateLimit, ThrottlingBurstLimit). */
class Throttle {
  private tokens: number;
  private last = Date.now();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }
  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * The ARN API Gateway invokes a route's function as (`aws:SourceArn`), which the function's
 * `AWS::Lambda::Permission` must match: `arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<method>/<path>`
 * (API Gateway Developer Guide, "Grant permission to invoke a Lambda function from an HTTP API"); the `$default`
 * route is `…/<stage>/$default`.
 */
export function executeApiArn(template: LocalTemplate, route: HttpRoute, stage = '$default'): string {
  const resource =
    route.routeKey === '$default' ? `${stage}/$default` : `${stage}/${route.method}${route.path}`;
  return `arn:aws:execute-api:${template.region}:${template.accountId}:${route.apiId}/${resource}`;
}

/**
 * API Gateway HTTP API (payload format 2.0) in front of the local functions: raw body (base64 for
 * binary types), lower-cased headers with the `x-forwarded-*` API Gateway adds, query parameters,
 * route keys and path parameters as API Gateway builds them; the Lambda's result mapped back as API
 * Gateway maps it; stage throttling → 429. API Gateway invokes as `apigateway.amazonaws.com` with the route as
 * `aws:SourceArn`: without a matching Lambda permission (or when Lambda throttles or fails) the client gets
 * API Gateway's 500.
 */
export class LocalHttpApi {
  readonly routes: HttpRoute[];
  private readonly throttles = new Map<string, Throttle>();

  constructor(
    private readonly template: LocalTemplate,
    private readonly invoke: (
      functionArn: string,
      event: APIGatewayProxyEventV2,
      sourceArn: string,
    ) => Promise<InvokeResult>,
  ) {
    this.routes = httpRoutes(template);
    for (const stage of template.ofType('AWS::ApiGatewayV2::Stage')) {
      const settings = stage.properties.DefaultRouteSettings as
        | { ThrottlingRateLimit?: number; ThrottlingBurstLimit?: number }
        | undefined;
      if (settings?.ThrottlingRateLimit !== undefined) {
        this.throttles.set(
          String(stage.properties.ApiId),
          new Throttle(
            Number(settings.ThrottlingRateLimit),
            Number(settings.ThrottlingBurstLimit ?? settings.ThrottlingRateLimit),
          ),
        );
      }
    }
  }

  match(method: string, path: string): { route: HttpRoute; parameters: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== 'ANY' && route.method !== method) continue;
      const match = route.pattern.exec(path);
      if (!match) continue;
      const parameters = Object.fromEntries(
        route.parameterNames.map((name, index) => [name, decodeURIComponent(match[index + 1] ?? '')]),
      );
      return { route, parameters };
    }
    return undefined;
  }

  /** Answers the request when a route matches; false otherwise (the caller answers 404). */
  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const matched = this.match(method, url.pathname);
    if (!matched) return false;
    const reply = (
      status: number,
      payload: string,
      headers: Record<string, string> = { 'content-type': 'application/json' },
    ) => {
      res.writeHead(status, { 'apigw-requestid': randomUUID(), ...headers });
      res.end(payload);
    };
    if (this.throttles.get(matched.route.apiId)?.take() === false) {
      reply(429, JSON.stringify({ message: 'Too Many Requests' }));
      return true;
    }
    if (body.length > MAX_PAYLOAD_BYTES) {
      reply(413, JSON.stringify({ message: 'Request Entity Too Large' }));
      return true;
    }
    const event = this.toEvent(req, url, body, matched.route, matched.parameters);
    let result: InvokeResult;
    try {
      result = await this.invoke(
        matched.route.functionArn,
        event,
        executeApiArn(this.template, matched.route),
      );
    } catch {
      // Lambda refused the call (no permission, throttled, payload too large): an integration failure.
      reply(500, JSON.stringify({ message: 'Internal Server Error' }));
      return true;
    }
    if (!result.ok) {
      // A function error or timeout is an integration failure: API Gateway answers 500.
      reply(500, JSON.stringify({ message: 'Internal Server Error' }));
      return true;
    }
    this.writeResult(res, result.payload);
    return true;
  }

  private toEvent(
    req: IncomingMessage,
    url: URL,
    body: Buffer,
    route: HttpRoute,
    parameters: Record<string, string>,
  ): APIGatewayProxyEventV2 {
    const headers: Record<string, string> = {};
    const cookies: string[] = [];
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      if (name === 'cookie') cookies.push(...String(value).split(/;\s*/));
      else headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
    }
    // API Gateway sets these itself (https and 443 on AWS): what a function needs to rebuild the URL the
    // sender used — Square signs it.
    const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
    headers['x-forwarded-for'] = headers['x-forwarded-for']
      ? `${headers['x-forwarded-for']}, ${sourceIp}`
      : sourceIp;
    headers['x-forwarded-proto'] = 'http';
    headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams)
      query[name] = name in query ? `${query[name]},${value}` : value;
    const contentType = headers['content-type'] ?? '';
    const isText = body.length === 0 || TEXT_TYPES.test(contentType);
    const now = new Date();
    const requestId = randomUUID();
    return {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      ...(cookies.length ? { cookies } : {}),
      headers,
      ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
      ...(Object.keys(parameters).length ? { pathParameters: parameters } : {}),
      requestContext: {
        accountId: '000000000000',
        apiId: route.apiId,
        domainName: headers.host ?? '127.0.0.1',
        domainPrefix: (headers.host ?? '127').split('.')[0] ?? '127',
        http: {
          method: (req.method ?? 'GET').toUpperCase(),
          path: url.pathname,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp,
          userAgent: headers['user-agent'] ?? '',
        },
        requestId,
        routeKey: route.routeKey,
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
      },
      ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
      isBase64Encoded: !isText,
    };
  }

  /** Payload 2.0 response mapping: a `statusCode` object is used as is; anything else is a 200 JSON body. */
  private writeResult(res: ServerResponse, payload: unknown): void {
    if (payload !== null && typeof payload === 'object' && 'statusCode' in payload) {
      const result = payload as {
        statusCode: number;
        headers?: Record<string, string>;
        body?: string;
        isBase64Encoded?: boolean;
        cookies?: string[];
      };
      const headers: Record<string, string | string[]> = { ...(result.headers ?? {}) };
      if (result.cookies?.length) headers['set-cookie'] = result.cookies;
      res.writeHead(result.statusCode, headers);
      res.end(
        result.body === undefined ? '' : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8'),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }
}
