/**
 * The Lambda service in front of the runtime: who may invoke a function (the caller's role, or the function's
 * resource-based policy from its `AWS::Lambda::Permission`s for a service such as API Gateway or EventBridge), and
 * the two invocation types — synchronous through the runtime, asynchronous through the function's event queue.
 */
import type { LocalIam } from '../iam/local-iam.ts';
import type { Caller, InvokeResult } from '../types.ts';
import type { AsyncInvoker } from './async.ts';
import { LambdaServiceError, MAX_ASYNC_PAYLOAD_BYTES, payloadTooLarge } from './errors.ts';
import type { LambdaRuntime, LocalFunction } from './runtime.ts';

const ADMIN: Caller = { kind: 'admin' };

export class LocalLambda {
  constructor(
    readonly runtime: LambdaRuntime,
    readonly events: AsyncInvoker,
    private readonly iam?: LocalIam,
  ) {}

  /**
   * The function a name, ARN or partial ARN names (`$LATEST` or no qualifier: there are no versions locally).
   *
   * @throws LambdaServiceError ResourceNotFoundException (404).
   */
  require(nameOrArn: string, qualifier?: string): LocalFunction {
    const fn = this.runtime.resolve(nameOrArn);
    const arnQualifier = nameOrArn.startsWith('arn:') ? nameOrArn.split(':')[7] : undefined;
    const version = qualifier ?? arnQualifier;
    if (!fn || (version !== undefined && version !== '$LATEST')) {
      throw new LambdaServiceError('ResourceNotFoundException', `Function not found: ${nameOrArn}`, 404);
    }
    return fn;
  }

  /**
   * Checks that `caller` may invoke the function (`lambda:InvokeFunction`).
   *
   * @throws AccessDeniedError when IAM refuses.
   */
  authorizeInvoke(fn: LocalFunction, caller: Caller): void {
    this.iam?.assertAllowed(caller, [{ action: 'lambda:InvokeFunction', resource: fn.arn }]);
  }

  /**
   * A synchronous invocation by `caller`.
   *
   * @throws AccessDeniedError, LambdaServiceError (throttled, payload too large).
   */
  invoke(nameOrArn: string, payload: unknown, caller: Caller = ADMIN): Promise<InvokeResult> {
    const fn = this.runtime.resolve(nameOrArn);
    if (fn) this.authorizeInvoke(fn, caller);
    return this.runtime.invoke(nameOrArn, payload);
  }

  /**
   * An asynchronous invocation by `caller`: queued, answered at once with the request id.
   *
   * @throws AccessDeniedError, LambdaServiceError (no such function, payload over 1 MB).
   */
  invokeAsync(nameOrArn: string, payload: unknown, caller: Caller = ADMIN): string {
    const fn = this.require(nameOrArn);
    this.authorizeInvoke(fn, caller);
    const bytes = Buffer.byteLength(JSON.stringify(payload) ?? 'null', 'utf8');
    if (bytes > MAX_ASYNC_PAYLOAD_BYTES) throw payloadTooLarge(bytes, 'Event');
    return this.events.enqueue(fn.name, payload);
  }
}
