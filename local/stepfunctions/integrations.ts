/**
 * Task resources as Step Functions calls them: Lambda (plain function ARN and the `lambda:invoke`
 * integration), DynamoDB, EventBridge and SQS optimized integrations. Each returns the task result in the
 * shape AWS documents, and fails with the error names AWS uses, so `Retry`/`Catch` written against AWS
 * behave the same locally. Lambda, SQS and EventBridge go through the hub's `LocalRuntime`; DynamoDB
 * through a real SDK client pointed at the local endpoint.
 */
import { createHash, randomUUID } from 'node:crypto';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import type { LocalRuntime, PutEventsEntry, SendMessageOptions } from '../types.ts';
import { LOCAL_WAIT_RESOURCE } from './definition.ts';

/**
 * A task failure as the state machine sees it: `name` is the ASL error (what `ErrorEquals` matches) and
 * `message` the cause. `isRetryable`/`isCatchable` are read by aws-local-stepfunctions, which is how
 * `States.Runtime`-like failures escape `Retry` and `Catch` as they do on AWS.
 */
export class TaskFailure extends Error {
  constructor(
    readonly error: string,
    readonly causeText: string,
    private readonly handleable = true,
  ) {
    super(causeText);
    this.name = error;
  }

  get isRetryable(): boolean {
    return this.handleable;
  }

  get isCatchable(): boolean {
    return this.handleable;
  }
}

/** How a task waits for its work: request/response, `.sync`, `.sync:2` or `.waitForTaskToken` (AWS's patterns). */
export type IntegrationPattern = 'request' | 'sync' | 'sync2' | 'token';

/** A Task `Resource` classified once, so unsupported resources fail with a clear `States.Runtime` cause. */
export type TaskResource =
  | { readonly kind: 'function'; readonly functionArn: string }
  | {
      readonly kind: 'service';
      /** `lambda`, `dynamodb`, `events`, `sqs`, `states`, or `aws-sdk:dynamodb`. */
      readonly service: string;
      readonly action: string;
      readonly pattern: IntegrationPattern;
    }
  | { readonly kind: 'wait' }
  | { readonly kind: 'unsupported'; readonly reason: string };

const FUNCTION_ARN = /^arn:aws[\w-]*:lambda:[^:]*:\d*:function:[^:]+(?::[^:]+)?$/;
const SERVICE_ARN = /^arn:aws[\w-]*:states:::(aws-sdk:)?([\w-]+):(\w+)(\.sync:2|\.sync|\.waitForTaskToken)?$/;

/** Classifies a Task state's `Resource`. */
export function parseResource(resource: string): TaskResource {
  if (resource === LOCAL_WAIT_RESOURCE) return { kind: 'wait' };
  if (FUNCTION_ARN.test(resource)) return { kind: 'function', functionArn: resource };
  const match = SERVICE_ARN.exec(resource);
  if (!match) {
    return { kind: 'unsupported', reason: `Task resource ${resource} is not supported by the local cloud` };
  }
  const [, sdk, service = '', action = '', suffix] = match;
  const pattern: IntegrationPattern =
    suffix === '.sync:2'
      ? 'sync2'
      : suffix === '.sync'
        ? 'sync'
        : suffix === '.waitForTaskToken'
          ? 'token'
          : 'request';
  const name = sdk ? `aws-sdk:${service}` : service;
  const supported =
    (name === 'lambda' && action === 'invoke' && pattern !== 'sync' && pattern !== 'sync2') ||
    (name === 'dynamodb' &&
      ['getItem', 'putItem', 'updateItem', 'deleteItem'].includes(action) &&
      pattern === 'request') ||
    (name === 'events' && action === 'putEvents' && (pattern === 'request' || pattern === 'token')) ||
    (name === 'sqs' && action === 'sendMessage' && (pattern === 'request' || pattern === 'token')) ||
    (name === 'states' && action === 'startExecution') ||
    (name === 'aws-sdk:dynamodb' && (pattern === 'request' || pattern === 'token'));
  if (!supported) {
    return { kind: 'unsupported', reason: `Task resource ${resource} is not supported by the local cloud` };
  }
  return { kind: 'service', service: name, action, pattern };
}

/** `SdkHttpMetadata`/`SdkResponseMetadata`, which AWS adds to the result of optimized integrations. */
export function sdkMetadata(contentType = 'application/x-amz-json-1.0'): Record<string, unknown> {
  const requestId = randomUUID();
  const headers: Record<string, string> = {
    'Content-Type': contentType,
    Date: new Date().toUTCString(),
    'x-amzn-RequestId': requestId,
  };
  return {
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, [value]])),
      HttpHeaders: headers,
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(parameters: Record<string, unknown>, field: string, resource: string): string {
  const value = parameters[field];
  if (typeof value !== 'string' || !value) {
    throw new TaskFailure('States.Runtime', `${resource}: the required parameter ${field} is missing`, false);
  }
  return value;
}

function asParameters(input: unknown, resource: string): Record<string, unknown> {
  if (!isRecord(input)) {
    throw new TaskFailure('States.Runtime', `${resource}: Parameters must be a JSON object`, false);
  }
  return input;
}

/** Step Functions serializes object-valued fields (`MessageBody`, `Detail`, `Input`) to JSON text. */
export function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}

/** Where the error came from when the SDK or the local runtime threw rather than answered. */
function serviceErrorName(error: unknown): string {
  return error instanceof Error && error.name && error.name !== 'Error' ? error.name : '';
}

const FUNCTION_NAME =
  /^(?:(arn:aws[\w-]*:lambda:[^:]*:\d*:function:)|(\d{12}:function:))?([^:]+)(?::([^:]+))?$/;

/** Splits `name[:qualifier]`, partial and full ARNs into the function reference and the version run. */
function functionReference(functionName: string): { reference: string; version: string } {
  const match = FUNCTION_NAME.exec(functionName);
  if (!match) return { reference: functionName, version: '$LATEST' };
  const [, arnPrefix, , name = functionName, qualifier] = match;
  const reference = arnPrefix ? `${arnPrefix}${name}` : name;
  return { reference, version: qualifier && /^\d+$/.test(qualifier) ? qualifier : '$LATEST' };
}

/**
 * Invokes a function through the runtime and turns a function error into the task failure AWS reports:
 * `Error` = the function's `errorType` (`Lambda.Unknown` when it has none, e.g. a crash), `Cause` = the
 * Lambda error payload as JSON. A runtime that throws is a Lambda service problem: `Lambda.<Exception>`
 * when the error is named, else `Lambda.ServiceException`.
 */
async function invoke(runtime: LocalRuntime, functionName: string, payload: unknown): Promise<unknown> {
  let result: Awaited<ReturnType<LocalRuntime['invokeFunction']>>;
  try {
    result = await runtime.invokeFunction(functionName, payload);
  } catch (error) {
    const name = serviceErrorName(error);
    throw new TaskFailure(
      name ? `Lambda.${name.replace(/^Lambda\./, '')}` : 'Lambda.ServiceException',
      `${(error as Error).message} (Service: Lambda, Status Code: 500, Request ID: ${randomUUID()})`,
    );
  }
  if (!result.ok) {
    throw new TaskFailure(
      result.errorType || 'Lambda.Unknown',
      JSON.stringify({ errorType: result.errorType, errorMessage: result.errorMessage, trace: [] }),
    );
  }
  return result.payload === undefined ? null : result.payload;
}

/** A Task whose Resource is a function ARN: the state input is the event, the result is the return value. */
export function invokeFunctionResource(
  runtime: LocalRuntime,
  functionArn: string,
  input: unknown,
): Promise<unknown> {
  return invoke(runtime, functionReference(functionArn).reference, input);
}

/**
 * `arn:aws:states:::lambda:invoke`: `FunctionName`, `Payload`, `InvocationType`, `Qualifier` as documented;
 * the result is wrapped as AWS wraps it (`ExecutedVersion`, `Payload`, `StatusCode`, SDK metadata).
 */
export async function lambdaInvoke(runtime: LocalRuntime, input: unknown): Promise<unknown> {
  const resource = 'arn:aws:states:::lambda:invoke';
  const parameters = asParameters(input, resource);
  const functionName = requireString(parameters, 'FunctionName', resource);
  const qualifier = typeof parameters.Qualifier === 'string' ? parameters.Qualifier : undefined;
  const { reference, version } = functionReference(qualifier ? `${functionName}:${qualifier}` : functionName);
  const invocationType =
    typeof parameters.InvocationType === 'string' ? parameters.InvocationType : 'RequestResponse';
  const base = { ExecutedVersion: version, ...sdkMetadata('application/json') };
  if (invocationType === 'DryRun') return { ...base, Payload: '', StatusCode: 204 };
  if (invocationType === 'Event') {
    // Asynchronous invocation: Lambda accepts the event and Step Functions moves on.
    invoke(runtime, reference, parameters.Payload ?? {}).catch((error: unknown) => {
      runtime.log.warn('asynchronous invoke from a state machine failed', {
        functionName: reference,
        error: (error as Error).message,
      });
    });
    return { ...base, Payload: '', StatusCode: 202 };
  }
  const payload = await invoke(runtime, reference, parameters.Payload ?? {});
  return { ...base, Payload: payload, StatusCode: 200 };
}

/** DynamoDB's JSON form of binary attributes (base64 text) to the bytes the SDK sends, recursively. */
function toSdkValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toSdkValues);
  if (!isRecord(value)) return value;
  const entries = Object.entries(value).map(([key, inner]) => {
    if (key === 'B' && typeof inner === 'string') return [key, Buffer.from(inner, 'base64')];
    if (key === 'BS' && Array.isArray(inner) && inner.every((item) => typeof item === 'string')) {
      return [key, inner.map((item: string) => Buffer.from(item, 'base64'))];
    }
    return [key, toSdkValues(inner)];
  });
  return Object.fromEntries(entries);
}

/** The SDK's answer as the JSON a state sees: bytes as base64, `$metadata` dropped. */
function toJsonValues(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJsonValues);
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, inner]) => key !== '$metadata' && inner !== undefined)
      .map(([key, inner]) => [key, toJsonValues(inner)]),
  );
}

type DynamoDbCommand = new (input: unknown) => Parameters<dynamodb.DynamoDBClient['send']>[0];

function dynamoDbCommand(action: string): DynamoDbCommand | undefined {
  const name = `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`;
  const command = (dynamodb as unknown as Record<string, unknown>)[name];
  return typeof command === 'function' ? (command as DynamoDbCommand) : undefined;
}

/**
 * `arn:aws:states:::dynamodb:<getItem|putItem|updateItem|deleteItem>` (errors `DynamoDB.<Exception>`, result
 * with SDK metadata) and `arn:aws:states:::aws-sdk:dynamodb:<action>` (errors `DynamoDb.<Exception>`, the
 * API response as is), both sent to the local DynamoDB.
 */
export async function dynamoDbTask(
  client: dynamodb.DynamoDBClient | undefined,
  action: string,
  input: unknown,
  sdkIntegration: boolean,
): Promise<unknown> {
  const prefix = sdkIntegration ? 'DynamoDb' : 'DynamoDB';
  const resource = sdkIntegration
    ? `arn:aws:states:::aws-sdk:dynamodb:${action}`
    : `arn:aws:states:::dynamodb:${action}`;
  const parameters = asParameters(input, resource);
  const Command = dynamoDbCommand(action);
  if (!Command)
    throw new TaskFailure('States.Runtime', `${resource}: unknown DynamoDB action ${action}`, false);
  if (!client) {
    throw new TaskFailure(
      `${prefix}.AmazonDynamoDBException`,
      'no local DynamoDB endpoint: set AWS_ENDPOINT_URL_DYNAMODB or pass endpoints.dynamodb',
    );
  }
  try {
    const output = await client.send(new Command(toSdkValues(parameters)));
    return sdkIntegration ? toJsonValues(output) : { ...(toJsonValues(output) as object), ...sdkMetadata() };
  } catch (error) {
    const name = serviceErrorName(error) || 'AmazonDynamoDBException';
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 400;
    throw new TaskFailure(
      `${prefix}.${name}`,
      `${(error as Error).message} (Service: AmazonDynamoDBv2; Status Code: ${status}; Error Code: ${name}; Request ID: ${randomUUID()}; Proxy: null)`,
    );
  }
}

/**
 * `arn:aws:states:::events:putEvents` through the local bus. `Detail` may be an object (serialized as
 * Step Functions does); a failed entry fails the task with `EventBridge.FailedEntry`, as documented.
 */
export async function putEventsTask(runtime: LocalRuntime, input: unknown): Promise<unknown> {
  const resource = 'arn:aws:states:::events:putEvents';
  const parameters = asParameters(input, resource);
  if (!Array.isArray(parameters.Entries) || parameters.Entries.length === 0) {
    throw new TaskFailure('States.Runtime', `${resource}: the required parameter Entries is missing`, false);
  }
  const entries: PutEventsEntry[] = parameters.Entries.map((entry: unknown) => {
    const fields = isRecord(entry) ? entry : {};
    return {
      ...(fields as PutEventsEntry),
      ...(fields.Detail === undefined ? {} : { Detail: asText(fields.Detail) }),
    };
  });
  let result: Awaited<ReturnType<LocalRuntime['putEvents']>>;
  try {
    result = await runtime.putEvents(entries);
  } catch (error) {
    const name = serviceErrorName(error) || 'AmazonEventBridgeException';
    throw new TaskFailure(`EventBridge.${name}`, (error as Error).message);
  }
  const output = { Entries: result.Entries, FailedEntryCount: result.FailedEntryCount };
  if (result.FailedEntryCount > 0) throw new TaskFailure('EventBridge.FailedEntry', JSON.stringify(output));
  return output;
}

/** `arn:aws:states:::sqs:sendMessage` through the local queue service; an object `MessageBody` is serialized. */
export async function sendMessageTask(runtime: LocalRuntime, input: unknown): Promise<unknown> {
  const resource = 'arn:aws:states:::sqs:sendMessage';
  const parameters = asParameters(input, resource);
  const queueUrl = requireString(parameters, 'QueueUrl', resource);
  if (parameters.MessageBody === undefined) {
    throw new TaskFailure(
      'States.Runtime',
      `${resource}: the required parameter MessageBody is missing`,
      false,
    );
  }
  const body = asText(parameters.MessageBody);
  const options: SendMessageOptions = {
    ...(typeof parameters.MessageGroupId === 'string' ? { messageGroupId: parameters.MessageGroupId } : {}),
    ...(typeof parameters.MessageDeduplicationId === 'string'
      ? { messageDeduplicationId: parameters.MessageDeduplicationId }
      : {}),
    ...(typeof parameters.DelaySeconds === 'number' ? { delaySeconds: parameters.DelaySeconds } : {}),
    ...(isRecord(parameters.MessageAttributes)
      ? { messageAttributes: parameters.MessageAttributes as SendMessageOptions['messageAttributes'] }
      : {}),
  };
  try {
    const { messageId } = await runtime.sendMessage(queueUrl, body, options);
    return {
      MD5OfMessageBody: createHash('md5').update(body).digest('hex'),
      MessageId: messageId,
      ...sdkMetadata('text/xml'),
    };
  } catch (error) {
    const name = serviceErrorName(error) || 'AmazonSQSException';
    throw new TaskFailure(`SQS.${name.replace(/^AWS\.SimpleQueueService\./, '')}`, (error as Error).message);
  }
}
