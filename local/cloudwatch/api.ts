/**
 * The CloudWatch API of the local cloud (`DescribeAlarms`), in the three protocols CloudWatch accepts
 * ("FAQs on CloudWatch supported protocols", CloudWatch User Guide): Smithy RPC v2 CBOR (what botocore and so
 * the AWS CLI pick first: `POST /service/GraniteServiceVersion20100801/operation/<Operation>`,
 * `smithy-protocol: rpc-v2-cbor`), AWS JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`)
 * and AWS Query (form-encoded `Action=…&Version=2010-08-01`, XML answers). The service model marks CloudWatch
 * `awsQueryCompatible`, so JSON and CBOR errors also carry `x-amzn-query-error`.
 *
 * Reference: CloudWatch API Reference, `DescribeAlarms` and `MetricAlarm`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cbor, dateToTag } from '@smithy/core/cbor';
import type { AlarmStatus, LocalCloudWatch } from './service.ts';

const TARGET_PREFIX = 'GraniteServiceVersion20100801';
const CBOR_PATH = `/service/${TARGET_PREFIX}/operation/`;
const XML_NAMESPACE = 'http://monitoring.amazonaws.com/doc/2010-08-01/';

type Protocol = 'cbor' | 'json' | 'query';

class CloudWatchError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A MetricAlarm with its timestamps as Dates (each protocol renders them its own way). */
function metricAlarm(alarm: AlarmStatus): Record<string, unknown> {
  const { definition } = alarm;
  const updated = new Date(alarm.updatedAt);
  return {
    AlarmName: definition.name,
    AlarmArn: definition.arn,
    ...(definition.description === undefined ? {} : { AlarmDescription: definition.description }),
    AlarmConfigurationUpdatedTimestamp: updated,
    ActionsEnabled: definition.actionsEnabled,
    OKActions: [...definition.okActions],
    AlarmActions: [...definition.alarmActions],
    InsufficientDataActions: [...definition.insufficientDataActions],
    StateValue: alarm.state,
    StateReason: alarm.reason,
    StateUpdatedTimestamp: updated,
    StateTransitionedTimestamp: updated,
    MetricName: definition.metricName,
    Namespace: definition.namespace,
    ...(definition.extended
      ? { ExtendedStatistic: definition.statistic }
      : { Statistic: definition.statistic }),
    Dimensions: Object.entries(definition.dimensions).map(([Name, Value]) => ({ Name, Value })),
    Period: definition.period,
    ...(definition.unit === undefined ? {} : { Unit: definition.unit }),
    EvaluationPeriods: definition.evaluationPeriods,
    DatapointsToAlarm: definition.datapointsToAlarm,
    Threshold: definition.threshold,
    ComparisonOperator: definition.comparison,
    TreatMissingData: definition.treatMissingData,
  };
}

/** DescribeAlarms over the local alarms: names, prefix, state, action prefix, types, paging. */
function describeAlarms(
  cloudWatch: LocalCloudWatch,
  input: Record<string, unknown>,
): Record<string, unknown> {
  const names = Array.isArray(input.AlarmNames) ? (input.AlarmNames as string[]) : undefined;
  if (names && input.AlarmNamePrefix !== undefined) {
    throw new CloudWatchError(
      'InvalidParameterCombination',
      'AlarmNames and AlarmNamePrefix cannot be used together.',
    );
  }
  const types = Array.isArray(input.AlarmTypes) ? (input.AlarmTypes as string[]) : ['MetricAlarm'];
  const prefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : undefined;
  const state = typeof input.StateValue === 'string' ? input.StateValue : undefined;
  const actionPrefix = typeof input.ActionPrefix === 'string' ? input.ActionPrefix : undefined;
  const matching = types.includes('MetricAlarm')
    ? cloudWatch.alarms
        .filter(
          (alarm) =>
            (!names || names.includes(alarm.definition.name)) &&
            (prefix === undefined || alarm.definition.name.startsWith(prefix)) &&
            (state === undefined || alarm.state === state) &&
            (actionPrefix === undefined ||
              [
                ...alarm.definition.alarmActions,
                ...alarm.definition.okActions,
                ...alarm.definition.insufficientDataActions,
              ].some((action) => action.startsWith(actionPrefix))),
        )
        .sort((a, b) => a.definition.name.localeCompare(b.definition.name))
    : [];
  const maxRecords = Number(input.MaxRecords ?? 50);
  if (!Number.isInteger(maxRecords) || maxRecords < 1 || maxRecords > 100) {
    throw new CloudWatchError('InvalidParameterValue', 'The parameter MaxRecords must be between 1 and 100.');
  }
  const offset = input.NextToken === undefined ? 0 : Number(input.NextToken);
  if (!Number.isInteger(offset) || offset < 0)
    throw new CloudWatchError('InvalidNextToken', 'The next token is invalid.');
  const page = matching.slice(offset, offset + maxRecords).map(metricAlarm);
  return {
    MetricAlarms: page,
    CompositeAlarms: [],
    ...(offset + maxRecords < matching.length ? { NextToken: String(offset + maxRecords) } : {}),
  };
}

function operate(
  cloudWatch: LocalCloudWatch,
  operation: string,
  input: Record<string, unknown>,
): Record<string, unknown> {
  if (operation === 'DescribeAlarms') return describeAlarms(cloudWatch, input);
  throw new CloudWatchError('UnknownOperationException', `CloudWatch ${operation} is not emulated locally`);
}

/** Dates as each protocol wants them: CBOR tag 1, JSON epoch seconds (XML: see `toXml`). */
function withDates(value: unknown, render: (date: Date) => unknown): unknown {
  if (value instanceof Date) return render(value);
  if (Array.isArray(value)) return value.map((item) => withDates(item, render));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withDates(inner, render)]));
  }
  return value;
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[ch] ?? ch,
  );
}

/** AWS Query XML: objects as elements, lists as `<member>`s, dates in ISO 8601. */
function toXml(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => `<member>${toXml(item)}</member>`).join('');
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value)
      .map(([key, inner]) => `<${key}>${toXml(inner)}</${key}>`)
      .join('');
  }
  return escapeXml(String(value));
}

/** AWS Query parameters (`AlarmNames.member.1=…`) as the operation's input. */
function parseQuery(body: string): { operation: string; input: Record<string, unknown> } {
  const params = new URLSearchParams(body);
  const input: Record<string, unknown> = {};
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue;
    const member = /^(\w+)\.member\.(\d+)$/.exec(key);
    if (member) {
      const name = member[1] as string;
      const list = (Array.isArray(input[name]) ? input[name] : []) as string[];
      list[Number(member[2]) - 1] = value;
      input[name] = list;
    } else {
      input[key] = value;
    }
  }
  return { operation: params.get('Action') ?? '', input };
}

/**
 * Answers the request when it is a CloudWatch call in any of the three protocols; false otherwise (the
 * caller tries its other services).
 */
export async function handleCloudWatchHttp(
  cloudWatch: LocalCloudWatch,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const target = req.headers['x-amz-target'];
  const contentType = String(req.headers['content-type'] ?? '');
  let protocol: Protocol;
  let operation: string;
  let input: Record<string, unknown>;
  if (req.method === 'POST' && path.startsWith(CBOR_PATH)) {
    protocol = 'cbor';
    operation = path.slice(CBOR_PATH.length);
    input = body.length ? (cbor.deserialize(body) as Record<string, unknown>) : {};
  } else if (typeof target === 'string' && target.startsWith(`${TARGET_PREFIX}.`)) {
    protocol = 'json';
    operation = target.slice(TARGET_PREFIX.length + 1);
    input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
  } else if (
    req.method === 'POST' &&
    contentType.startsWith('application/x-www-form-urlencoded') &&
    new URLSearchParams(body.toString('utf8')).get('Version') === '2010-08-01'
  ) {
    protocol = 'query';
    ({ operation, input } = parseQuery(body.toString('utf8')));
  } else {
    return false;
  }
  const requestId = randomUUID();
  try {
    const output = operate(cloudWatch, operation, input);
    if (protocol === 'cbor') {
      res.writeHead(200, {
        'content-type': 'application/cbor',
        'smithy-protocol': 'rpc-v2-cbor',
        'x-amzn-requestid': requestId,
      });
      res.end(Buffer.from(cbor.serialize(withDates(output, dateToTag))));
    } else if (protocol === 'json') {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId });
      res.end(JSON.stringify(withDates(output, (date) => date.getTime() / 1000)));
    } else {
      res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(
        `<${operation}Response xmlns="${XML_NAMESPACE}"><${operation}Result>${toXml(output)}</${operation}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`,
      );
    }
  } catch (error) {
    const code = error instanceof CloudWatchError ? error.code : 'InternalFailure';
    const status = error instanceof CloudWatchError ? 400 : 500;
    const message = (error as Error).message;
    if (protocol === 'query') {
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(
        `<ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    } else {
      const headers = { 'x-amzn-requestid': requestId, 'x-amzn-query-error': `${code};Sender` };
      const payload = { __type: code, message };
      if (protocol === 'cbor') {
        res.writeHead(status, {
          ...headers,
          'content-type': 'application/cbor',
          'smithy-protocol': 'rpc-v2-cbor',
        });
        res.end(Buffer.from(cbor.serialize(payload)));
      } else {
        res.writeHead(status, { ...headers, 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(payload));
      }
    }
  }
  return true;
}
