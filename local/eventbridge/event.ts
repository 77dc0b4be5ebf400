/**
 * The event envelope as EventBridge delivers it to targets and rules ("Amazon EventBridge events" in the User
 * Guide): every field is always present, `time` is UTC with second precision (`2015-11-11T21:29:54Z`), and
 * `detail` is a JSON object.
 */
export interface EventBridgeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * Formats a timestamp the way EventBridge renders `time`: ISO 8601 in UTC without milliseconds, as in every
 * sample event of the guide (`"time": "2017-12-22T18:43:48Z"`).
 */
export function eventTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `arn:aws:events:<region>:<account>:event-bus/<name>`, the ARN EventBridge gives a bus. */
export function eventBusArn(region: string, account: string, name: string): string {
  return `arn:aws:events:${region}:${account}:event-bus/${name}`;
}

/**
 * A rule's ARN as EventBridge forms it: `rule/<name>` on the default bus, `rule/<bus>/<name>` on any other
 * (API Reference, `PutRule` response `RuleArn`).
 */
export function ruleArn(region: string, account: string, busName: string, ruleName: string): string {
  const path = busName === 'default' ? ruleName : `${busName}/${ruleName}`;
  return `arn:aws:events:${region}:${account}:rule/${path}`;
}

/**
 * The bus name inside an `EventBusName` that may be a name or an ARN (`PutEvents`, `PutRule` and the
 * template's `AWS::Events::Rule` accept both). Partner bus names contain slashes, so everything after
 * `event-bus/` is the name.
 */
export function busNameOf(nameOrArn: string): string {
  if (!nameOrArn.startsWith('arn:')) return nameOrArn;
  const marker = ':event-bus/';
  const at = nameOrArn.indexOf(marker);
  return at === -1 ? nameOrArn : nameOrArn.slice(at + marker.length);
}
