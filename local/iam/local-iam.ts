/**
 * IAM for the local cloud: every function gets credentials that identify it (an `ASIA…` access key id per
 * function, as Lambda hands an execution environment its role's temporary credentials), and every call a local
 * service receives is evaluated against the caller's role policies from the template, plus the resource-based
 * policy of the resource it touches. Callers that are not functions — tests, the ops CLI, `npm start` itself,
 * any other credentials — act as the account's admin.
 *
 * Denials are answered in the protocol's AccessDeniedException shape by the service front ends, logged with the
 * action and resource, and listed by `GET /_local/iam`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { LocalTemplate } from '../template.ts';
import type { Caller, LocalLogger } from '../types.ts';
import type { ResourceDirectory } from './actions.ts';
import { IamModel } from './model.ts';
import { type Evaluation, evaluate, type Principal, type RequestContext } from './policy.ts';

/** One action on one resource, with the request's own condition keys (lower case). */
export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: RequestContext;
}

export interface FunctionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** A refused call, as `GET /_local/iam` lists it. */
export interface Denial {
  readonly time: string;
  /** The function, role session or service principal that called. */
  readonly principal: string;
  readonly functionName?: string | undefined;
  readonly action: string;
  readonly resource: string;
  readonly explicit: boolean;
  /** The AWS error message. */
  readonly message: string;
  /** Condition keys that failed in statements that would otherwise have allowed the call. */
  readonly failedConditionKeys: readonly string[];
}

/** A call IAM refused; `name` is the AWS error code. */
export class AccessDeniedError extends Error {
  constructor(readonly denial: Denial) {
    super(denial.message);
    this.name = 'AccessDeniedException';
  }
}

/** Credentials a request carried that IAM does not recognise (a function key with another session token). */
export class UnrecognizedClientError extends Error {
  constructor() {
    super('The security token included in the request is invalid.');
    this.name = 'UnrecognizedClientException';
  }
}

/** How many denials `GET /_local/iam` keeps. */
const MAX_DENIALS = 1000;

interface Resolved {
  readonly principal: Principal;
  readonly label: string;
  readonly functionName?: string | undefined;
  readonly context: Record<string, string[]>;
}

/** The IAM of one local cloud: its roles and resource policies, its function credentials, its denials. */
export class LocalIam {
  readonly model: IamModel;
  readonly directory: ResourceDirectory;
  private readonly keys = new Map<string, { functionName: string; sessionToken: string }>();
  private readonly credentials = new Map<string, FunctionCredentials>();
  private readonly denials: Denial[] = [];
  private readonly log: LocalLogger;

  /**
   * @throws UnsupportedPolicyError when a policy of the template uses something the local cloud does not evaluate
   *   (the boot stops).
   */
  constructor(
    private readonly template: LocalTemplate,
    options: { readonly log: LocalLogger },
  ) {
    this.log = options.log;
    this.model = new IamModel(template);
    const tables = new Map(
      template.ofType('AWS::DynamoDB::Table').map((table) => {
        const schema =
          (table.properties.KeySchema as { AttributeName: string; KeyType: string }[] | undefined) ?? [];
        return [table.name, schema.find((key) => key.KeyType === 'HASH')?.AttributeName] as const;
      }),
    );
    const queues = new Map<string, string>();
    for (const queue of template.ofType('AWS::SQS::Queue')) {
      queues.set(queue.physicalId, queue.arn);
      queues.set(queue.name, queue.arn);
      queues.set(queue.arn.split(':').pop() ?? queue.name, queue.arn);
    }
    const secrets = new Map<string, string>();
    for (const secret of template.ofType('AWS::SecretsManager::Secret')) {
      secrets.set(secret.arn, secret.arn);
      secrets.set(secret.name, secret.arn);
    }
    this.directory = {
      region: template.region,
      accountId: template.accountId,
      partitionKeyOf: (table) => tables.get(table),
      // Any URL whose path ends in /<account>/<name> names that queue, whatever the host.
      queueArn: (reference) => queues.get(reference) ?? queues.get(reference.split('/').pop() ?? ''),
      secretArn: (id) => secrets.get(id),
    };
  }

  /**
   * The temporary credentials of a function's role, as Lambda puts them into its environment
   * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`). New ones each boot.
   */
  credentialsFor(functionName: string): FunctionCredentials {
    let credentials = this.credentials.get(functionName);
    if (!credentials) {
      credentials = {
        accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
        secretAccessKey: randomBytes(20).toString('base64'),
        sessionToken: randomBytes(32).toString('base64'),
      };
      this.credentials.set(functionName, credentials);
      this.keys.set(credentials.accessKeyId, { functionName, sessionToken: credentials.sessionToken });
    }
    return credentials;
  }

  /**
   * Who sent an HTTP request, from the access key id of its SigV4 `Authorization` header (or `X-Amz-Credential`
   * of a presigned URL): a function whose key it is, else the admin.
   *
   * @throws UnrecognizedClientError for a function's key with another session token.
   */
  identify(headers: IncomingHttpHeaders, url = '/'): Caller {
    const authorization = typeof headers.authorization === 'string' ? headers.authorization : '';
    const fromHeader = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
    const fromQuery = new URL(url, 'http://localhost').searchParams.get('X-Amz-Credential')?.split('/')[0];
    const accessKeyId = fromHeader ?? fromQuery;
    const key = accessKeyId === undefined ? undefined : this.keys.get(accessKeyId);
    if (!key) return { kind: 'admin' };
    const token =
      headers['x-amz-security-token'] ??
      new URL(url, 'http://localhost').searchParams.get('X-Amz-Security-Token') ??
      undefined;
    if (token !== key.sessionToken) throw new UnrecognizedClientError();
    return { kind: 'function', functionName: key.functionName };
  }

  /**
   * Evaluates `requests` for `caller` (all must be allowed) and returns the first denial, recorded and logged;
   * undefined when every request is allowed. The admin is always allowed.
   */
  authorize(caller: Caller, requests: readonly AuthorizationRequest[]): Denial | undefined {
    for (const request of requests) {
      const outcome = this.check(caller, request);
      if (outcome.denial) {
        this.record(outcome.denial);
        return outcome.denial;
      }
    }
    return undefined;
  }

  /** `authorize`, throwing the denial as an AccessDeniedError. */
  assertAllowed(caller: Caller, requests: readonly AuthorizationRequest[]): void {
    const denial = this.authorize(caller, requests);
    if (denial) throw new AccessDeniedError(denial);
  }

  /** Evaluates one request without recording anything (for callers that answer per entry). */
  check(caller: Caller, request: AuthorizationRequest): { evaluation?: Evaluation; denial?: Denial } {
    if (caller.kind === 'admin') return {};
    const resolved = this.resolve(caller);
    const evaluation = evaluate(
      {
        principal: resolved.principal,
        action: request.action,
        resource: request.resource,
        context: { ...resolved.context, ...request.context },
      },
      resolved.principal.kind === 'role' ? (this.model.role(resolved.principal.roleArn)?.policies ?? []) : [],
      this.model.resourcePolicy(resourcePolicyArn(request.resource)),
    );
    if (evaluation.decision === 'allow') return { evaluation };
    const explicit = evaluation.decision === 'explicit-deny';
    const because = explicit
      ? `with an explicit deny in a ${evaluation.deniedBy?.kind === 'identity' ? 'identity-based' : 'resource-based'} policy`
      : `because no ${resolved.principal.kind === 'service' ? 'resource-based' : 'identity-based'} policy allows the ${request.action} action`;
    const who = resolved.principal.kind === 'service' ? resolved.label : `User: ${resolved.label}`;
    return {
      evaluation,
      denial: {
        time: new Date().toISOString(),
        principal: resolved.label,
        functionName: resolved.functionName,
        action: request.action,
        resource: request.resource,
        explicit,
        message: `${who} is not authorized to perform: ${request.action} on resource: ${request.resource} ${because}`,
        failedConditionKeys: evaluation.failedConditionKeys,
      },
    };
  }

  /** Records and logs a denial decided with `check`. */
  record(denial: Denial): void {
    this.denials.push(denial);
    if (this.denials.length > MAX_DENIALS) this.denials.shift();
    this.log.warn('IAM: access denied', {
      principal: denial.principal,
      action: denial.action,
      resource: denial.resource,
      explicit: denial.explicit,
    });
  }

  /** `GET /_local/iam`: the denials (oldest first) and each function's role and access key id. */
  report(): {
    denials: readonly Denial[];
    functions: { functionName: string; roleArn: string | undefined; accessKeyId: string }[];
  } {
    return {
      denials: [...this.denials],
      functions: this.template.ofType('AWS::Lambda::Function').map((fn) => ({
        functionName: fn.name,
        roleArn: this.model.functionRole(fn.name),
        accessKeyId: this.credentialsFor(fn.name).accessKeyId,
      })),
    };
  }

  private resolve(caller: Exclude<Caller, { kind: 'admin' }>): Resolved {
    const { accountId, region } = this.template;
    const base: Record<string, string[]> = {
      // The local endpoints stand for AWS's HTTPS endpoints (the SDK's default); they are plain HTTP on loopback
      // only because the emulator has no certificate. aws:SecureTransport is the transport the deployed code uses.
      'aws:securetransport': ['true'],
      'aws:requestedregion': [region],
    };
    if (caller.kind === 'service') {
      return {
        principal: { kind: 'service', service: caller.service },
        label: caller.service,
        context: {
          ...base,
          'aws:principalservicename': [caller.service],
          ...(caller.sourceArn ? { 'aws:sourcearn': [caller.sourceArn] } : {}),
          ...(caller.sourceAccount ? { 'aws:sourceaccount': [caller.sourceAccount] } : {}),
        },
      };
    }
    const roleArn =
      caller.kind === 'function' ? (this.model.functionRole(caller.functionName) ?? '') : caller.roleArn;
    const session = caller.kind === 'function' ? caller.functionName : caller.sessionName;
    const roleName = roleArn.split('/').pop() ?? roleArn;
    const sessionArn = `arn:aws:sts::${accountId}:assumed-role/${roleName}/${session}`;
    // A role's unique id starts with AROA; aws:userid of a role session is "<role id>:<session name>".
    const roleId = `AROA${createHash('sha256').update(roleArn).digest('hex').slice(0, 17).toUpperCase()}`;
    return {
      principal: { kind: 'role', roleArn, sessionArn, account: accountId },
      label: sessionArn,
      functionName: caller.kind === 'function' ? caller.functionName : undefined,
      context: {
        ...base,
        'aws:principalarn': [roleArn],
        'aws:principalaccount': [accountId],
        'aws:principaltype': ['AssumedRole'],
        'aws:userid': [`${roleId}:${session}`],
      },
    };
  }
}

/** The resource whose resource-based policy applies: a function without qualifier, a DynamoDB table without index. */
function resourcePolicyArn(resource: string): string {
  const fn = /^(arn:aws:lambda:[^:]+:[^:]+:function:[^:]+)(:.*)?$/.exec(resource);
  if (fn?.[1]) return fn[1];
  return resource;
}
