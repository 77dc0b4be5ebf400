import { describe, expect, it } from 'vitest';
import {
  compilePattern,
  type EventPattern,
  InvalidEventPatternError,
  matchesPattern,
  validatePattern,
} from '#local/eventbridge/pattern.ts';

// Events copied from the Amazon EventBridge User Guide (and, where noted, the aws/event-ruler README, the
// engine behind EventBridge). Each group cites the page its cases come from.

/** "Creating Amazon EventBridge event patterns": the EC2 state-change event. */
const EC2_TERMINATED = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

/** "Matching events on null values and empty strings in Amazon EventBridge": the Auto Scaling event. */
const AUTOSCALING_LAUNCH = {
  version: '0',
  id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};

/** "Amazon EventBridge event patterns" (Value matching): the truncated Macie Classic alert. */
const MACIE_ALERT = {
  version: '0',
  id: '3e355723-fca9-4de3-9fd7-154c289d6b59',
  'detail-type': 'Macie Alert',
  source: 'aws.macie',
  account: '123456789012',
  time: '2017-04-24T22:28:49Z',
  region: 'us-east-1',
  resources: [
    'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id',
    'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id',
  ],
  detail: {
    'notification-type': 'ALERT_CREATED',
    name: 'Scanning bucket policies',
    tags: ['Custom_Alert', 'Insider'],
    'risk-score': 80,
    trigger: { 'alert-type': 'basic', risk: 8 },
  },
};

/** The sample event the content-filtering examples are written against (event-ruler README, "Ruler by Example"). */
const SAMPLE_EVENT = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

/** SAMPLE_EVENT with `detail` fields replaced (a value of `undefined` removes the field). */
function sampleWith(detail: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...SAMPLE_EVENT.detail, ...detail };
  for (const [key, value] of Object.entries(detail)) {
    if (value === undefined) {
      delete merged[key];
    }
  }
  return { ...SAMPLE_EVENT, detail: merged };
}

/** A minimal event whose `detail` is the given object. */
const withDetail = (detail: unknown) => ({ ...EC2_TERMINATED, detail });

/** The error validatePattern throws, or a failed assertion when it does not throw one. */
function rejection(pattern: unknown): InvalidEventPatternError {
  try {
    validatePattern(pattern);
  } catch (error) {
    if (error instanceof InvalidEventPatternError) {
      return error;
    }
    throw error;
  }
  throw new Error(`pattern was accepted: ${JSON.stringify(pattern)}`);
}

describe('event pattern matcher', () => {
  // "Creating Amazon EventBridge event patterns" / "Creating event patterns in EventBridge"
  describe('field matching on the envelope and detail', () => {
    const ec2Termination: EventPattern = {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['terminated'] },
    };

    it('matches the documented EC2 instance-termination event', () => {
      expect(matchesPattern(ec2Termination, EC2_TERMINATED)).toBe(true);
    });

    it('does not match when one field of the AND differs', () => {
      expect(matchesPattern(ec2Termination, withDetail({ ...EC2_TERMINATED.detail, state: 'running' }))).toBe(
        false,
      );
      expect(matchesPattern(ec2Termination, { ...EC2_TERMINATED, source: 'aws.fargate' })).toBe(false);
    });

    it('does not match when a pattern field is absent from the event', () => {
      expect(matchesPattern(ec2Termination, withDetail({ 'instance-id': 'i-1234567890abcdef0' }))).toBe(
        false,
      );
      const { detail: _detail, ...withoutDetail } = EC2_TERMINATED;
      expect(matchesPattern(ec2Termination, withoutDetail)).toBe(false);
    });

    it('ignores event fields the pattern does not name', () => {
      expect(matchesPattern({ detail: { state: ['terminated'] } }, EC2_TERMINATED)).toBe(true);
    });

    it('matches any of several values in the array ("aws.ec2" or "aws.fargate")', () => {
      const pattern: EventPattern = { source: ['aws.ec2', 'aws.fargate'] };
      expect(matchesPattern(pattern, EC2_TERMINATED)).toBe(true);
      expect(matchesPattern(pattern, { ...EC2_TERMINATED, source: 'aws.fargate' })).toBe(true);
      expect(matchesPattern(pattern, { ...EC2_TERMINATED, source: 'aws.ecs' })).toBe(false);
    });

    it('matches strings character by character, without case folding', () => {
      expect(matchesPattern({ source: ['aws.EC2'] }, EC2_TERMINATED)).toBe(false);
      expect(matchesPattern({ source: ['aws.ec2 '] }, EC2_TERMINATED)).toBe(false);
    });

    it.each([
      ['version', '0'],
      ['id', '6a7e8feb-b491-4cf7-a9f1-bf3703467718'],
      ['account', '111122223333'],
      ['time', '2017-12-22T18:43:48Z'],
      ['region', 'us-west-1'],
      ['resources', 'arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
    ])('matches on the top-level field %s', (field, value) => {
      expect(matchesPattern({ [field]: [value] }, EC2_TERMINATED)).toBe(true);
      expect(matchesPattern({ [field]: [`${value}-other`] }, EC2_TERMINATED)).toBe(false);
    });

    it('requires the same nesting structure as the event', () => {
      expect(matchesPattern({ state: ['terminated'] }, EC2_TERMINATED)).toBe(false);
      expect(matchesPattern({ detail: { state: { name: ['terminated'] } } }, EC2_TERMINATED)).toBe(false);
      expect(matchesPattern({ detail: ['terminated'] }, EC2_TERMINATED)).toBe(false);
    });

    it("only looks at the event's own fields, never inherited ones", () => {
      expect(matchesPattern({ constructor: [{ exists: false }] }, { source: 'aws.ec2' })).toBe(true);
      expect(matchesPattern({ toString: [{ exists: true }] }, { source: 'aws.ec2' })).toBe(false);
    });

    it('treats a dotted key as one field name, not a path', () => {
      // The guide warns that EventBridge joins nested keys with "." and not to rely on it; we do not emulate it.
      expect(matchesPattern({ 'detail.state': ['terminated'] }, EC2_TERMINATED)).toBe(false);
    });

    it('accepts the pattern as a JSON string, as PutRule does', () => {
      const json = '{"source":["aws.ec2"],"detail":{"state":["terminated"]}}';
      expect(matchesPattern(json, EC2_TERMINATED)).toBe(true);
      expect(matchesPattern(json, { ...EC2_TERMINATED, source: 'aws.s3' })).toBe(false);
    });

    it('compiles once and evaluates many events', () => {
      const matcher = compilePattern(ec2Termination);
      expect([EC2_TERMINATED, AUTOSCALING_LAUNCH, MACIE_ALERT].map(matcher)).toEqual([true, false, false]);
    });

    it('matches nothing on inputs that are not objects', () => {
      const matcher = compilePattern(ec2Termination);
      expect([null, undefined, 'aws.ec2', 42, []].map(matcher)).toEqual([false, false, false, false, false]);
    });
  });

  // "Amazon EventBridge event patterns" — Field matching and Value matching examples
  describe('JSON value types', () => {
    it('matches the numbers of the Macie example (risk-score 80 and trigger risk 8)', () => {
      const pattern: EventPattern = {
        source: ['aws.macie'],
        'detail-type': ['Macie Alert'],
        detail: { 'risk-score': [80], trigger: { risk: [8] } },
      };
      expect(matchesPattern(pattern, MACIE_ALERT)).toBe(true);
      expect(
        matchesPattern(pattern, { ...MACIE_ALERT, detail: { ...MACIE_ALERT.detail, trigger: { risk: 9 } } }),
      ).toBe(false);
    });

    it('does not match a number against its string form, either way', () => {
      expect(matchesPattern({ detail: { 'risk-score': ['80'] } }, MACIE_ALERT)).toBe(false);
      expect(matchesPattern({ detail: { n: [80] } }, withDetail({ n: '80' }))).toBe(false);
    });

    it('compares parsed numbers by value: 300 in the pattern matches 3.0e2 in the event', () => {
      // The guide says 300, 300.0 and 3.0e2 are not equal because EventBridge compares their text; once
      // JSON is parsed the three are the same number, so the local bus cannot tell them apart.
      expect(matchesPattern('{"detail":{"n":[300]}}', JSON.parse('{"detail":{"n":3.0e2}}'))).toBe(true);
      expect(matchesPattern({ detail: { n: [300] } }, withDetail({ n: 300.5 }))).toBe(false);
    });

    it('matches booleans only against booleans', () => {
      expect(matchesPattern({ detail: { enabled: [true] } }, withDetail({ enabled: true }))).toBe(true);
      expect(matchesPattern({ detail: { enabled: [true] } }, withDetail({ enabled: false }))).toBe(false);
      expect(matchesPattern({ detail: { enabled: [true] } }, withDetail({ enabled: 'true' }))).toBe(false);
      expect(matchesPattern({ detail: { enabled: ['true'] } }, withDetail({ enabled: true }))).toBe(false);
    });

    it('mixes exact values and operators in one list (OR)', () => {
      const pattern: EventPattern = { detail: { state: ['pending', { prefix: 'term' }] } };
      expect(matchesPattern(pattern, EC2_TERMINATED)).toBe(true);
      expect(matchesPattern(pattern, withDetail({ state: 'pending' }))).toBe(true);
      expect(matchesPattern(pattern, withDetail({ state: 'running' }))).toBe(false);
    });
  });

  // "Matching events on null values and empty strings in Amazon EventBridge"
  describe('null values and empty strings', () => {
    it('matches an empty string with [""]', () => {
      expect(matchesPattern({ detail: { eventVersion: [''] } }, AUTOSCALING_LAUNCH)).toBe(true);
    });

    it('matches a null value with [null]', () => {
      expect(matchesPattern({ detail: { responseElements: [null] } }, AUTOSCALING_LAUNCH)).toBe(true);
    });

    it('does not interchange null and the empty string', () => {
      expect(matchesPattern({ detail: { eventVersion: [null] } }, AUTOSCALING_LAUNCH)).toBe(false);
      expect(matchesPattern({ detail: { responseElements: [''] } }, AUTOSCALING_LAUNCH)).toBe(false);
    });

    it('does not treat a missing field as null', () => {
      expect(matchesPattern({ detail: { requestParameters: [null] } }, AUTOSCALING_LAUNCH)).toBe(false);
    });

    it('matches the documented field-matching pattern on responseElements', () => {
      const pattern: EventPattern = {
        source: ['aws.autoscaling'],
        'detail-type': ['EC2 Instance Launch Successful'],
        detail: { responseElements: [null] },
      };
      expect(matchesPattern(pattern, AUTOSCALING_LAUNCH)).toBe(true);
      expect(matchesPattern(pattern, { ...AUTOSCALING_LAUNCH, detail: { responseElements: {} } })).toBe(
        false,
      );
    });
  });

  // "Arrays in Amazon EventBridge event patterns"
  describe('arrays in events', () => {
    const resourcesPattern: EventPattern = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    };

    it('matches when the pattern array and the event array intersect', () => {
      const event = {
        resources: [
          'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
          'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        ],
      };
      expect(matchesPattern(resourcesPattern, event)).toBe(true);
    });

    it('does not match when the intersection is empty', () => {
      expect(
        matchesPattern(resourcesPattern, { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-0'] }),
      ).toBe(false);
      expect(matchesPattern(resourcesPattern, { resources: [] })).toBe(false);
    });

    it('matches one element of a detail array (Macie tags)', () => {
      expect(matchesPattern({ detail: { tags: ['Insider'] } }, MACIE_ALERT)).toBe(true);
      expect(matchesPattern({ detail: { tags: ['Outsider'] } }, MACIE_ALERT)).toBe(false);
    });

    // event-ruler README, "JSON Array Matching"
    const employees = {
      employees: [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
        { firstName: 'Peter', lastName: 'Jones' },
      ],
    };

    it('crushes arrays of objects out of the path', () => {
      expect(matchesPattern({ employees: { firstName: ['Anna'] } }, employees)).toBe(true);
      expect(matchesPattern({ employees: { firstName: ['Mary'] } }, employees)).toBe(false);
    });

    it('is array-consistent: fields must come from the same element', () => {
      expect(matchesPattern({ employees: { firstName: ['Anna'], lastName: ['Jones'] } }, employees)).toBe(
        false,
      );
      expect(matchesPattern({ employees: { firstName: ['Anna'], lastName: ['Smith'] } }, employees)).toBe(
        true,
      );
    });

    it('crushes multi-level arrays too', () => {
      const nested = {
        employees: [
          [
            { firstName: 'John', lastName: 'Doe' },
            { firstName: 'Anna', lastName: 'Smith' },
          ],
          [{ firstName: 'Peter', lastName: 'Jones' }],
        ],
      };
      expect(matchesPattern({ employees: { firstName: ['Peter'], lastName: ['Jones'] } }, nested)).toBe(true);
      expect(matchesPattern({ employees: { firstName: ['Peter'], lastName: ['Doe'] } }, nested)).toBe(false);
      expect(matchesPattern({ values: [3] }, { values: [[1, 2], [3]] })).toBe(true);
    });

    it('applies operators to each element (numeric on an array of numbers)', () => {
      const pattern: EventPattern = { detail: { sizes: [{ numeric: ['>', 100] }] } };
      expect(matchesPattern(pattern, withDetail({ sizes: [1, 50, 101] }))).toBe(true);
      expect(matchesPattern(pattern, withDetail({ sizes: [1, 50, 100] }))).toBe(false);
    });

    it('never matches an object element as a leaf value', () => {
      expect(matchesPattern({ detail: { items: ['a'] } }, withDetail({ items: [{ a: 'a' }] }))).toBe(false);
      expect(matchesPattern({ detail: { items: ['a'] } }, withDetail({ items: [{ a: 'a' }, 'a'] }))).toBe(
        true,
      );
      expect(
        matchesPattern({ detail: { items: [{ exists: true }] } }, withDetail({ items: [{ a: 'a' }] })),
      ).toBe(false);
    });
  });

  // "Comparison operators for use in event patterns in Amazon EventBridge" — Prefix matching
  describe('prefix', () => {
    it('matches a "time" starting with "2017-10-02"', () => {
      const pattern: EventPattern = { time: [{ prefix: '2017-10-02' }] };
      expect(matchesPattern(pattern, { ...EC2_TERMINATED, time: '2017-10-02T18:43:48Z' })).toBe(true);
      expect(matchesPattern(pattern, { ...EC2_TERMINATED, time: '2017-10-03T18:43:48Z' })).toBe(false);
    });

    it('matches "Region is in the US" ({"prefix": "us-"})', () => {
      expect(matchesPattern({ region: [{ prefix: 'us-' }] }, EC2_TERMINATED)).toBe(true);
      expect(
        matchesPattern({ region: [{ prefix: 'us-' }] }, { ...EC2_TERMINATED, region: 'eu-west-1' }),
      ).toBe(false);
    });

    it('matches Auto Scaling events from European regions', () => {
      const pattern: EventPattern = { source: ['aws.autoscaling'], region: [{ prefix: 'eu-' }] };
      expect(matchesPattern(pattern, { ...AUTOSCALING_LAUNCH, region: 'eu-central-1' })).toBe(true);
      expect(matchesPattern(pattern, AUTOSCALING_LAUNCH)).toBe(false);
    });

    it('anchors at the start of the value', () => {
      expect(matchesPattern({ region: [{ prefix: 'west' }] }, EC2_TERMINATED)).toBe(false);
      expect(matchesPattern({ detail: { state: [{ prefix: '' }] } }, EC2_TERMINATED)).toBe(true);
    });

    it('is case-sensitive and only works on strings', () => {
      expect(matchesPattern({ region: [{ prefix: 'US-' }] }, EC2_TERMINATED)).toBe(false);
      expect(matchesPattern({ detail: { code: [{ prefix: '12' }] } }, withDetail({ code: 123 }))).toBe(false);
      expect(matchesPattern({ detail: { code: [{ prefix: '12' }] } }, withDetail({ code: '123' }))).toBe(
        true,
      );
    });

    // Prefix matching while ignoring case
    it.each([
      ['EventBridge', true],
      ['EVENTBRIDGE', true],
      ['eventbus', true],
      ['Events', false],
      ['Event', false],
    ])('matches service %s against {"prefix": {"equals-ignore-case": "EventB"}}: %s', (service, expected) => {
      const pattern: EventPattern = { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } };
      expect(matchesPattern(pattern, withDetail({ service }))).toBe(expected);
    });
  });

  // "Comparison operators for use in event patterns in Amazon EventBridge" — Suffix matching
  describe('suffix', () => {
    it('matches a "FileName" ending with ".png"', () => {
      const pattern: EventPattern = { FileName: [{ suffix: '.png' }] };
      expect(matchesPattern(pattern, { FileName: 'image.png' })).toBe(true);
      expect(matchesPattern(pattern, { FileName: 'image.jpg' })).toBe(false);
      expect(matchesPattern(pattern, { FileName: 'image.PNG' })).toBe(false);
      expect(matchesPattern(pattern, { FileName: 'image.png.gz' })).toBe(false);
    });

    // Suffix matching while ignoring case
    it.each([
      ['image.png', true],
      ['image.PNG', true],
      ['image.pNg', true],
      ['image.jpg', false],
    ])('matches FileName %s against {"suffix": {"equals-ignore-case": ".png"}}: %s', (FileName, expected) => {
      const pattern: EventPattern = { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } };
      expect(matchesPattern(pattern, withDetail({ FileName }))).toBe(expected);
    });

    it('matches "tbridge" at the end regardless of case', () => {
      const pattern: EventPattern = { service: [{ suffix: { 'equals-ignore-case': 'tbridge' } }] };
      expect(matchesPattern(pattern, { service: 'EVENTBRIDGE' })).toBe(true);
      expect(matchesPattern(pattern, { service: 'EventBus' })).toBe(false);
    });
  });

  // "Comparison operators for use in event patterns in Amazon EventBridge" — Equals-ignore-case matching
  describe('equals-ignore-case', () => {
    it.each([
      ['Alice', true],
      ['ALICE', true],
      ['alice', true],
      ['Alicia', false],
      ['Alic', false],
      ['Alice Smith', false],
    ])('matches Name %s against {"equals-ignore-case": "alice"}: %s', (Name, expected) => {
      expect(matchesPattern({ Name: [{ 'equals-ignore-case': 'alice' }] }, { Name })).toBe(expected);
    });

    it('matches the detail-type regardless of case', () => {
      const pattern: EventPattern = {
        'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }],
      };
      expect(matchesPattern(pattern, EC2_TERMINATED)).toBe(true);
      expect(matchesPattern(pattern, AUTOSCALING_LAUNCH)).toBe(false);
    });

    it('only works on strings', () => {
      expect(matchesPattern({ n: [{ 'equals-ignore-case': '5' }] }, { n: 5 })).toBe(false);
    });
  });

  // "Comparison operators for use in event patterns in Amazon EventBridge" — Anything-but matching
  describe('anything-but', () => {
    it('excludes a single string ("state" is anything but "initializing")', () => {
      const pattern: EventPattern = { detail: { state: [{ 'anything-but': 'initializing' }] } };
      expect(matchesPattern(pattern, SAMPLE_EVENT)).toBe(true);
      expect(matchesPattern(pattern, sampleWith({ state: 'initializing' }))).toBe(false);
    });

    it('excludes a single number ("x-limit" is anything but 123)', () => {
      const pattern: EventPattern = { detail: { 'x-limit': [{ 'anything-but': 123 }] } };
      expect(matchesPattern(pattern, SAMPLE_EVENT)).toBe(true);
      expect(matchesPattern(pattern, sampleWith({ 'x-limit': 123 }))).toBe(false);
    });

    it('excludes a list of strings', () => {
      const pattern: EventPattern = { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } };
      expect(matchesPattern(pattern, SAMPLE_EVENT)).toBe(true);
      expect(matchesPattern(pattern, sampleWith({ state: 'stopped' }))).toBe(false);
      expect(matchesPattern(pattern, sampleWith({ state: 'overloaded' }))).toBe(false);
    });

    it('excludes a list of numbers', () => {
      const pattern: EventPattern = { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } };
      expect(matchesPattern(pattern, SAMPLE_EVENT)).toBe(true);
      expect(matchesPattern(pattern, sampleWith({ 'x-limit': 200 }))).toBe(false);
    });

    it('excludes a prefix ("state" does not start with "init")', () => {
      const pattern: EventPattern = { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } };
      expect(matchesPattern(pattern, SAMPLE_EVENT)).toBe(true);
      expect(matchesPattern(pattern, sampleWith({ state: 'initializing' }))).toBe(false);
    });

    it('excludes AWS events by their "aws." source prefix', () => {
      const pattern: EventPattern = { source: [{ 'anything-but': { prefix: 'aws.' } }] };
      expect(matchesPattern(pattern, { ...EC2_TERMINATED, source: 'omnihub.shopify' })).toBe(true);
      expect(matchesPattern(pattern, EC2_TERMINATED)).toBe(false);
    });

    it('excludes every event but CloudTrail API calls, and Amazon EC2 or Amazon S3 sources', () => {
      const notCloudTrail: EventPattern = {
        'detail-type': [{ 'anything-but': 'AWS API Call via CloudTrail' }],
      };
      expect(matchesPattern(notCloudTrail, EC2_TERMINATED)).toBe(true);
      expect(
        matchesPattern(notCloudTrail, { ...EC2_TERMINATED, 'detail-type': 'AWS API Call via CloudTrail' }),
      ).toBe(false);
      const notEc2OrS3: EventPattern = { source: [{ 'anything-but': ['aws.ec2', 'aws.s3'] }] };
      expect(matchesPattern(notEc2OrS3, MACIE_ALERT)).toBe(true);
      expect(matchesPattern(notEc2OrS3, { ...MACIE_ALERT, source: 'aws.s3' })).toBe(false);
    });

    it('excludes a suffix ("FileName does not end with a .png extension")', () => {
      const pattern: EventPattern = { FileName: [{ 'anything-but': { suffix: '.png' } }] };
      expect(matchesPattern(pattern, { FileName: 'notes.txt' })).toBe(true);
      expect(matchesPattern(pattern, { FileName: 'image.png' })).toBe(false);
    });

    it('excludes a list of suffixes', () => {
      const pattern: EventPattern = {
        detail: { FileName: [{ 'anything-but': { suffix: ['.txt', '.rtf'] } }] },
      };
      expect(matchesPattern(pattern, withDetail({ FileName: 'image.png' }))).toBe(true);
      expect(matchesPattern(pattern, withDetail({ FileName: 'notes.rtf' }))).toBe(false);
    });

    it('excludes a value in any casing ("initializing" or "INITIALIZING")', () => {
      const pattern: EventPattern = {
        detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
      };
      expect(matchesPattern(pattern, SAMPLE_EVENT)).toBe(true);
      expect(matchesPattern(pattern, sampleWith({ state: 'INITIALIZING' }))).toBe(false);
      expect(matchesPattern(pattern, sampleWith({ state: 'Initializing' }))).toBe(false);
    });

    it('excludes a list of values in any casing', () => {
      const pattern: EventPattern = {
        detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] },
      };
      expect(matchesPattern(pattern, SAMPLE_EVENT)).toBe(true);
      expect(matchesPattern(pattern, sampleWith({ state: 'Stopped' }))).toBe(false);
    });

    it('excludes a wildcard ("FilePath" is not a path that includes /lib/)', () => {
      const pattern: EventPattern = { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] };
      expect(matchesPattern(pattern, { FilePath: '/usr/bin/node' })).toBe(true);
      expect(matchesPattern(pattern, { FilePath: '/usr/lib/node' })).toBe(false);
    });

    it('excludes a list of wildcards', () => {
      const pattern: EventPattern = { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] };
      expect(matchesPattern(pattern, { FilePath: '/usr/share/doc' })).toBe(true);
      expect(matchesPattern(pattern, { FilePath: '/usr/bin/node' })).toBe(false);
    });

    it('"Not": Weather is anything but "Raining"', () => {
      const pattern: EventPattern = { Weather: [{ 'anything-but': ['Raining'] }] };
      expect(matchesPattern(pattern, { Weather: 'Sunny' })).toBe(true);
      expect(matchesPattern(pattern, { Weather: 'Raining' })).toBe(false);
    });

    it('does not match a missing field', () => {
      expect(matchesPattern({ detail: { mode: [{ 'anything-but': 'manual' }] } }, SAMPLE_EVENT)).toBe(false);
    });

    it('matches an array when any element is not excluded', () => {
      const pattern: EventPattern = { detail: { state: [{ 'anything-but': 'initializing' }] } };
      expect(matchesPattern(pattern, withDetail({ state: ['initializing', 'running'] }))).toBe(true);
      expect(matchesPattern(pattern, withDetail({ state: ['initializing'] }))).toBe(false);
    });

    it('only excludes values of its own type (event-ruler behaviour)', () => {
      expect(matchesPattern({ detail: { v: [{ 'anything-but': '5' }] } }, withDetail({ v: 5 }))).toBe(true);
      expect(matchesPattern({ detail: { v: [{ 'anything-but': 5 }] } }, withDetail({ v: '5' }))).toBe(true);
      expect(
        matchesPattern({ detail: { v: [{ 'anything-but': { prefix: 'n' } }] } }, withDetail({ v: null })),
      ).toBe(true);
    });
  });

  // "Comparison operators for use in event patterns in Amazon EventBridge" — Numeric matching
  describe('numeric', () => {
    const documented: EventPattern = {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    };

    it('matches the documented pattern when every field is true', () => {
      expect(matchesPattern(documented, SAMPLE_EVENT)).toBe(true);
    });

    it.each([
      [{ 'c-count': 0 }, false],
      [{ 'c-count': 0.000001 }, true],
      [{ 'c-count': 5 }, true],
      [{ 'c-count': 5.000001 }, false],
      [{ 'd-count': 9.999999 }, true],
      [{ 'd-count': 10 }, false],
      [{ 'x-limit': 301.8 }, true],
      [{ 'x-limit': 301.9 }, false],
      [{ 'c-count': -1 }, false],
    ])('evaluates %j against the documented ranges: %s', (detail, expected) => {
      expect(matchesPattern(documented, sampleWith(detail))).toBe(expected);
    });

    it('only works with JSON numbers, not numeric strings', () => {
      expect(matchesPattern(documented, sampleWith({ 'c-count': '5' }))).toBe(false);
      expect(matchesPattern({ detail: { n: [{ numeric: ['=', 5] }] } }, withDetail({ n: '5' }))).toBe(false);
    });

    it('"Numeric (equals)": Price is 100', () => {
      const pattern: EventPattern = { Price: [{ numeric: ['=', 100] }] };
      expect(matchesPattern(pattern, { Price: 100 })).toBe(true);
      expect(matchesPattern(pattern, { Price: 100.5 })).toBe(false);
    });

    it.each([
      [10, false],
      [10.5, true],
      [20, true],
      [20.5, false],
    ])('"Numeric (range)": Price %d is more than 10 and at most 20: %s', (Price, expected) => {
      expect(matchesPattern({ Price: [{ numeric: ['>', 10, '<=', 20] }] }, { Price })).toBe(expected);
    });

    it('supports >= with < (closed bottom, open top)', () => {
      const pattern: EventPattern = { n: [{ numeric: ['>=', 1, '<', 2] }] };
      expect([1, 1.5, 2, 0.999999].map((n) => matchesPattern(pattern, { n }))).toEqual([
        true,
        true,
        false,
        false,
      ]);
    });

    it('supports a lone <= and >=', () => {
      expect(matchesPattern({ n: [{ numeric: ['<=', -1] }] }, { n: -1 })).toBe(true);
      expect(matchesPattern({ n: [{ numeric: ['<=', -1] }] }, { n: 0 })).toBe(false);
      expect(matchesPattern({ n: [{ numeric: ['>=', 4999999999] }] }, { n: 5e9 })).toBe(true);
    });

    it('does not match event numbers outside -5.0e9..+5.0e9', () => {
      expect(matchesPattern({ n: [{ numeric: ['>', 0] }] }, { n: 5e9 })).toBe(true);
      expect(matchesPattern({ n: [{ numeric: ['>', 0] }] }, { n: 5e9 + 1 })).toBe(false);
      expect(matchesPattern({ n: [{ numeric: ['<', 0] }] }, { n: -6e9 })).toBe(false);
    });

    it('ORs several numeric ranges in one list', () => {
      const pattern: EventPattern = { n: [{ numeric: ['<', 0] }, { numeric: ['>', 100] }] };
      expect([-1, 50, 101].map((n) => matchesPattern(pattern, { n }))).toEqual([true, false, true]);
    });
  });

  // "Comparison operators for use in event patterns in Amazon EventBridge" — IP address matching
  describe('cidr', () => {
    const pattern: EventPattern = { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } };

    it.each([
      ['10.0.0.0', true],
      ['10.0.0.24', true],
      ['10.0.0.255', true],
      ['10.0.1.0', false],
      ['9.255.255.255', false],
      ['10.0.0', false],
      ['not an ip', false],
    ])('matches IPv4 %s against 10.0.0.0/24: %s', (sourceIPAddress, expected) => {
      expect(matchesPattern(pattern, withDetail({ sourceIPAddress }))).toBe(expected);
    });

    it('only matches string values', () => {
      expect(matchesPattern(pattern, withDetail({ sourceIPAddress: 167772160 }))).toBe(false);
    });

    it('matches the /8 of the complex example', () => {
      expect(matchesPattern({ detail: { 'source-ip': [{ cidr: '10.0.0.0/8' }] } }, SAMPLE_EVENT)).toBe(true);
      expect(
        matchesPattern(
          { detail: { 'source-ip': [{ cidr: '10.0.0.0/8' }] } },
          sampleWith({ 'source-ip': '11.0.0.1' }),
        ),
      ).toBe(false);
    });

    it.each([
      ['2001:db8::1', true],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', true],
      ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', true],
      ['2001:db9::', false],
      ['10.0.0.1', false],
    ])('matches IPv6 %s against 2001:db8::/32: %s', (ip, expected) => {
      expect(matchesPattern({ ip: [{ cidr: '2001:db8::/32' }] }, { ip })).toBe(expected);
    });

    it('does not match an IPv6 address against an IPv4 range', () => {
      expect(matchesPattern({ ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '::1' })).toBe(false);
      expect(matchesPattern({ ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '192.168.1.1' })).toBe(true);
    });
  });

  // "Comparison operators for use in event patterns in Amazon EventBridge" — Exists matching
  describe('exists', () => {
    const noCCount: EventPattern = { detail: { 'c-count': [{ exists: false }] } };

    it('matches an event without detail.c-count', () => {
      const event = {
        'detail-type': ['EC2 Instance State-change Notification'],
        resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
        detail: { state: ['initializing', 'running'] },
      };
      expect(matchesPattern(noCCount, event)).toBe(true);
    });

    it('also matches when c-count is an object, because it is not a leaf node', () => {
      const event = {
        'detail-type': ['EC2 Instance State-change Notification'],
        resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
        detail: { state: ['initializing', 'running'], 'c-count': { c1: 100 } },
      };
      expect(matchesPattern(noCCount, event)).toBe(true);
      expect(matchesPattern({ detail: { 'c-count': [{ exists: true }] } }, event)).toBe(false);
    });

    it('does not match when the field has a value', () => {
      expect(matchesPattern(noCCount, SAMPLE_EVENT)).toBe(false);
    });

    it('matches when the whole parent is missing', () => {
      expect(matchesPattern(noCCount, { source: 'aws.ec2' })).toBe(true);
      expect(matchesPattern({ detail: { 'c-count': [{ exists: true }] } }, { source: 'aws.ec2' })).toBe(
        false,
      );
    });

    it('selects events that have a description field ({"exists": true})', () => {
      const pattern: EventPattern = { detail: { description: [{ exists: true }] } };
      expect(matchesPattern(pattern, withDetail({ description: 'x' }))).toBe(true);
      expect(matchesPattern(pattern, withDetail({ description: '' }))).toBe(true);
      expect(matchesPattern(pattern, withDetail({ state: 'x' }))).toBe(false);
    });

    it('"Exists" / "Does not exist": ProductName', () => {
      expect(matchesPattern({ ProductName: [{ exists: true }] }, { ProductName: 'Widget' })).toBe(true);
      expect(matchesPattern({ ProductName: [{ exists: true }] }, { Product: 'Widget' })).toBe(false);
      expect(matchesPattern({ ProductName: [{ exists: false }] }, { Product: 'Widget' })).toBe(true);
      expect(matchesPattern({ ProductName: [{ exists: false }] }, { ProductName: 'Widget' })).toBe(false);
    });

    it('counts null as a present leaf value and an empty array as no value', () => {
      expect(matchesPattern({ detail: { responseElements: [{ exists: true }] } }, AUTOSCALING_LAUNCH)).toBe(
        true,
      );
      expect(matchesPattern({ detail: { responseElements: [{ exists: false }] } }, AUTOSCALING_LAUNCH)).toBe(
        false,
      );
      expect(matchesPattern({ resources: [{ exists: true }] }, AUTOSCALING_LAUNCH)).toBe(false);
      expect(matchesPattern({ resources: [{ exists: false }] }, AUTOSCALING_LAUNCH)).toBe(true);
    });

    it('combines with exact values in one list (missing or "manual")', () => {
      const pattern: EventPattern = { detail: { mode: ['manual', { exists: false }] } };
      expect(matchesPattern(pattern, withDetail({}))).toBe(true);
      expect(matchesPattern(pattern, withDetail({ mode: 'manual' }))).toBe(true);
      expect(matchesPattern(pattern, withDetail({ mode: 'auto' }))).toBe(false);
    });

    it('under an array of objects, exists:false alone requires every element to lack the field', () => {
      const pattern: EventPattern = { detail: { items: { discount: [{ exists: false }] } } };
      expect(matchesPattern(pattern, withDetail({ items: [{ sku: 'a' }, { sku: 'b' }] }))).toBe(true);
      expect(matchesPattern(pattern, withDetail({ items: [{ sku: 'a' }, { sku: 'b', discount: 1 }] }))).toBe(
        false,
      );
    });

    it('next to a value condition, exists:false applies to the same array element', () => {
      const pattern: EventPattern = { detail: { items: { sku: ['b'], discount: [{ exists: false }] } } };
      expect(matchesPattern(pattern, withDetail({ items: [{ sku: 'a', discount: 1 }, { sku: 'b' }] }))).toBe(
        true,
      );
      expect(matchesPattern(pattern, withDetail({ items: [{ sku: 'a' }, { sku: 'b', discount: 1 }] }))).toBe(
        false,
      );
    });
  });

  // "Comparison operators for use in event patterns in Amazon EventBridge" — Wildcard matching; AWS Compute
  // Blog "Filtering events in Amazon EventBridge with wildcard pattern matching"
  describe('wildcard', () => {
    it.each([
      ['dir/image.png', true],
      ['dir/sub/image.png', true],
      ['dir/.png', true],
      ['other/image.png', false],
      ['dir/image.png.bak', false],
    ])('matches FileName %s against "dir/*.png": %s', (FileName, expected) => {
      expect(matchesPattern({ FileName: [{ wildcard: 'dir/*.png' }] }, { FileName })).toBe(expected);
    });

    it('"*.png" matches strings that end with ".png"', () => {
      expect(matchesPattern({ key: [{ wildcard: '*.png' }] }, { key: 'a/b.png' })).toBe(true);
      expect(matchesPattern({ key: [{ wildcard: '*.png' }] }, { key: 'a/b.jpg' })).toBe(false);
    });

    it('"*Title*" matches values that include "Title"', () => {
      expect(matchesPattern({ key: [{ wildcard: '*Title*' }] }, { key: 'Title' })).toBe(true);
      expect(matchesPattern({ key: [{ wildcard: '*Title*' }] }, { key: 'The Title Page' })).toBe(true);
      expect(matchesPattern({ key: [{ wildcard: '*Title*' }] }, { key: 'The title page' })).toBe(false);
    });

    it('places several wildcards in order', () => {
      const pattern: EventPattern = { v: [{ wildcard: 'a*b*c' }] };
      expect(['abc', 'aXbYc', 'abbc', 'acb', 'ab'].map((v) => matchesPattern(pattern, { v }))).toEqual([
        true,
        true,
        true,
        false,
        false,
      ]);
      expect(matchesPattern({ v: [{ wildcard: 'ab*ab' }] }, { v: 'ab' })).toBe(false);
      expect(matchesPattern({ v: [{ wildcard: 'ab*ab' }] }, { v: 'abab' })).toBe(true);
      expect(matchesPattern({ v: [{ wildcard: 'a*b*b' }] }, { v: 'ab' })).toBe(false);
      expect(matchesPattern({ v: [{ wildcard: 'a*b*b' }] }, { v: 'abb' })).toBe(true);
    });

    it('"*" alone matches any string, including the empty one, and no other type', () => {
      expect(matchesPattern({ v: [{ wildcard: '*' }] }, { v: '' })).toBe(true);
      expect(matchesPattern({ v: [{ wildcard: '*' }] }, { v: 'anything' })).toBe(true);
      expect(matchesPattern({ v: [{ wildcard: '*' }] }, { v: 1 })).toBe(false);
    });

    it('treats \\* as a literal asterisk', () => {
      const pattern: EventPattern = { v: [{ wildcard: 'a\\*b' }] };
      expect(matchesPattern(pattern, { v: 'a*b' })).toBe(true);
      expect(matchesPattern(pattern, { v: 'aXb' })).toBe(false);
    });

    it('treats \\\\ as a literal backslash', () => {
      const pattern: EventPattern = { v: [{ wildcard: 'C:\\\\*' }] };
      expect(matchesPattern(pattern, { v: 'C:\\Windows' })).toBe(true);
      expect(matchesPattern(pattern, { v: 'C:/Windows' })).toBe(false);
    });

    it('without any wildcard it is an exact match', () => {
      expect(matchesPattern({ v: [{ wildcard: 'abc' }] }, { v: 'abc' })).toBe(true);
      expect(matchesPattern({ v: [{ wildcard: 'abc' }] }, { v: 'abcd' })).toBe(false);
    });
  });

  // "Comparison operators for use in event patterns in Amazon EventBridge" — $or matching
  describe('$or', () => {
    const documented: EventPattern = {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
        ],
      },
    };

    it.each([
      [{ 'c-count': 5, 'd-count': 20, 'x-limit': 1 }, true],
      [{ 'c-count': 9, 'd-count': 3, 'x-limit': 1 }, true],
      [{ 'c-count': 9, 'd-count': 20, 'x-limit': 301.8 }, true],
      [{ 'c-count': 9, 'd-count': 20, 'x-limit': 1 }, false],
    ])('matches the documented $or when any branch is true: %j → %s', (detail, expected) => {
      expect(matchesPattern(documented, sampleWith(detail))).toBe(expected);
    });

    it('"Or (multiple fields)": Location is "New York", or Day is "Monday"', () => {
      const pattern: EventPattern = { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] };
      expect(matchesPattern(pattern, { Location: 'Boston', Day: 'Monday' })).toBe(true);
      expect(matchesPattern(pattern, { Location: 'New York', Day: 'Friday' })).toBe(true);
      expect(matchesPattern(pattern, { Location: 'Boston', Day: 'Friday' })).toBe(false);
    });

    // event-ruler README, "Rule examples with $or Primitive"
    const cloudwatch = (fields: Record<string, unknown>) => ({ source: 'aws.cloudwatch', ...fields });

    it('normal Or: source AND (metricName OR namespace)', () => {
      const pattern: EventPattern = {
        source: ['aws.cloudwatch'],
        $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
      };
      expect(matchesPattern(pattern, cloudwatch({ namespace: 'AWS/ES' }))).toBe(true);
      expect(matchesPattern(pattern, cloudwatch({ metricName: 'WriteLatency', namespace: 'AWS/S3' }))).toBe(
        false,
      );
      expect(matchesPattern(pattern, { source: 'aws.ec2', namespace: 'AWS/ES' })).toBe(false);
    });

    it('parallel Or at two levels', () => {
      const pattern: EventPattern = {
        $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
        detail: {
          $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }],
        },
      };
      expect(
        matchesPattern(pattern, { metricName: 'ReadLatency', detail: { source: 'aws.cloudwatch' } }),
      ).toBe(true);
      expect(
        matchesPattern(pattern, {
          namespace: 'AWS/EC2',
          detail: { 'detail-type': 'CloudWatch Alarm State Change' },
        }),
      ).toBe(true);
      expect(matchesPattern(pattern, { metricName: 'ReadLatency', detail: { source: 'aws.ec2' } })).toBe(
        false,
      );
      expect(matchesPattern(pattern, { metricName: 'Other', detail: { source: 'aws.cloudwatch' } })).toBe(
        false,
      );
    });

    it('Or with an And inside', () => {
      const pattern: EventPattern = {
        source: ['aws.cloudwatch'],
        $or: [
          { metricName: ['CPUUtilization', 'ReadLatency'] },
          { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'] },
          { scope: ['Service'] },
        ],
      };
      expect(matchesPattern(pattern, cloudwatch({ metricType: 'MetricType', namespace: 'AWS/EC2' }))).toBe(
        true,
      );
      expect(matchesPattern(pattern, cloudwatch({ metricType: 'MetricType', namespace: 'AWS/S3' }))).toBe(
        false,
      );
      expect(matchesPattern(pattern, cloudwatch({ scope: 'Service' }))).toBe(true);
    });

    it('nested Or and And', () => {
      const pattern: EventPattern = {
        source: ['aws.cloudwatch'],
        $or: [
          { metricName: ['CPUUtilization', 'ReadLatency'] },
          {
            metricType: ['MetricType'],
            namespace: ['AWS/EC2', 'AWS/ES'],
            $or: [{ metricId: [1234] }, { spaceId: [1000] }],
          },
          { scope: ['Service'] },
        ],
      };
      const base = { metricType: 'MetricType', namespace: 'AWS/ES' };
      expect(matchesPattern(pattern, cloudwatch({ ...base, spaceId: 1000 }))).toBe(true);
      expect(matchesPattern(pattern, cloudwatch({ ...base, metricId: 1234 }))).toBe(true);
      expect(matchesPattern(pattern, cloudwatch({ ...base, metricId: 1 }))).toBe(false);
      expect(matchesPattern(pattern, cloudwatch(base))).toBe(false);
    });
  });

  // "Comparison operators for use in event patterns in Amazon EventBridge" — Complex example with multiple matching
  describe('complex example', () => {
    const complex: EventPattern = {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
        'source-ip': [{ cidr: '10.0.0.0/8' }],
      },
    };

    it('matches the sample event', () => {
      expect(matchesPattern(complex, SAMPLE_EVENT)).toBe(true);
    });

    it.each([
      ['time', { ...SAMPLE_EVENT, time: '2017-10-03T16:24:49Z' }],
      ['state', sampleWith({ state: 'initializing' })],
      ['c-count', sampleWith({ 'c-count': 6 })],
      ['d-count', sampleWith({ 'd-count': 10 })],
      ['x-limit', sampleWith({ 'x-limit': 300 })],
      ['source-ip', sampleWith({ 'source-ip': '192.168.0.1' })],
    ])('does not match when only %s fails', (_field, event) => {
      expect(matchesPattern(complex, event)).toBe(false);
    });
  });

  // Validation: what PutRule / TestEventPattern reject with InvalidEventPatternException. Reasons follow the
  // guide where it documents them, otherwise event-ruler's compiler (JsonRuleCompiler, CIDR, WildcardParser).
  describe('validation', () => {
    it('throws InvalidEventPatternError carrying the EventBridge error code', () => {
      const error = rejection({ source: 'aws.ec2' });
      expect(error.code).toBe('InvalidEventPatternException');
      expect(error.retryable).toBe(false);
      expect(error.name).toBe('InvalidEventPatternError');
      expect(error.path).toBe('$.source');
      expect(error.message).toBe(
        'Event pattern is not valid. Reason: "source" must be an object or an array at $.source',
      );
    });

    it('rejects invalid patterns in matchesPattern and compilePattern too', () => {
      expect(() => matchesPattern({ source: 'aws.ec2' }, EC2_TERMINATED)).toThrow(InvalidEventPatternError);
      expect(() => compilePattern({ detail: { state: [] } })).toThrow(InvalidEventPatternError);
    });

    it.each<[string, unknown, RegExp]>([
      ['a leaf that is not an array', { detail: { state: 'running' } }, /must be an object or an array/],
      ['a number leaf', { detail: { count: 5 } }, /must be an object or an array/],
      ['a null leaf', { detail: { count: null } }, /must be an object or an array/],
      ['an empty pattern', {}, /Empty objects are not allowed/],
      ['an empty nested object', { detail: {} }, /Empty objects are not allowed/],
      ['an empty value list', { source: [] }, /Empty arrays are not allowed/],
      ['a nested array in a value list', { source: [['aws.ec2']] }, /Match value must be/],
      ['a non-finite number', { n: [Number.POSITIVE_INFINITY] }, /Match value must be/],
      ['an unknown operator', { source: [{ contains: 'ec2' }] }, /Unrecognized match type contains/],
      ['an empty match expression', { source: [{}] }, /Match expression name not found/],
      ['two operators in one expression', { source: [{ prefix: 'a', suffix: 'b' }] }, /Only one key allowed/],
      ['a non-string prefix', { source: [{ prefix: 1 }] }, /prefix match pattern must be a string/],
      [
        'an unsupported prefix modifier',
        { source: [{ prefix: { wildcard: 'a*' } }] },
        /Unsupported prefix pattern/,
      ],
      ['a non-string suffix', { source: [{ suffix: null }] }, /suffix match pattern must be a string/],
      [
        'a non-string equals-ignore-case',
        { source: [{ 'equals-ignore-case': ['a'] }] },
        /equals-ignore-case match pattern must be a string/,
      ],
      ['exists that is not a boolean', { source: [{ exists: 'true' }] }, /must be either true or false/],
      ['a non-string wildcard', { source: [{ wildcard: 5 }] }, /wildcard match pattern must be a string/],
      ['consecutive wildcards', { source: [{ wildcard: 'a**b' }] }, /Consecutive wildcard characters/],
      [
        'escaping a character other than * or \\',
        { source: [{ wildcard: 'a\\d' }] },
        /Invalid escape character/,
      ],
      ['a trailing backslash', { source: [{ wildcard: 'a\\' }] }, /Invalid escape character/],
    ])('rejects %s', (_case, pattern, reason) => {
      expect(rejection(pattern).reason).toMatch(reason);
    });

    it.each<[string, unknown, RegExp]>([
      ['a mixed list', ['a', 1], /mixed type is not supported/],
      ['a list with null', [null], /mixed type is not supported/],
      ['a boolean', true, /must be an array or single string\/number value/],
      ['null', null, /must be an array or single string\/number value/],
      ['an empty list', [], /Empty arrays are not allowed/],
      ['a nested numeric', { numeric: ['>', 1] }, /Unsupported anything-but pattern: numeric/],
      ['a nested exists', { exists: false }, /Unsupported anything-but pattern: exists/],
      ['a nested anything-but', { 'anything-but': 'a' }, /Unsupported anything-but pattern: anything-but/],
      ['an empty prefix', { prefix: '' }, /Null prefix\/suffix not allowed/],
      ['an empty suffix in a list', { suffix: ['.png', ''] }, /Null prefix\/suffix not allowed/],
      ['a numeric equals-ignore-case list', { 'equals-ignore-case': [1] }, /must be a string/],
      ['an invalid nested wildcard', { wildcard: ['*/lib/*', 'a**'] }, /Consecutive wildcard characters/],
      ['two nested operators', { prefix: 'a', suffix: 'b' }, /Only one key allowed/],
      ['a number out of range', 5e9 + 1, /between/],
      ['a number with seven decimals', [1.0000001], /upto 6 decimals/],
    ])('rejects anything-but with %s', (_case, operand, reason) => {
      expect(rejection({ detail: { x: [{ 'anything-but': operand }] } }).reason).toMatch(reason);
    });

    it.each<[string, unknown, RegExp]>([
      ['not an array', { '>': 5 }, /must be an array/],
      ['an unknown operator', ['!=', 5], /Unrecognized numeric range operator/],
      ['a string bound', ['>', '5'], /Value of > must be numeric/],
      ['a missing bound', ['='], /Value of = must be numeric/],
      ['an upper bound first', ['<', 10, '>', 0], /Too many elements/],
      ['two lower bounds', ['>', 0, '>', 5], /Bad numeric range operator/],
      ['an empty range', ['>', 5, '<', 5], /Bottom must be less than top/],
      ['a reversed range', ['>=', 10, '<=', 1], /Bottom must be less than top/],
      ['too many terms', ['>', 0, '<', 5, '<', 6], /Too many terms/],
      ['extra terms after =', ['=', 5, '<', 6], /Too many elements/],
      ['a bound above 5.0e9', ['<', 5e9 + 1], /between/],
      ['a bound below -5.0e9', ['>', -6e9], /between/],
      ['a bound with seven decimals', ['=', 0.0000001], /upto 6 decimals/],
      ['a lower bound at the top of the range', ['>=', 5e9], /Bottom must be less than top/],
      ['an upper bound at the bottom of the range', ['<', -5e9], /Bottom must be less than top/],
    ])('rejects numeric with %s', (_case, operand, reason) => {
      expect(rejection({ detail: { n: [{ numeric: operand }] } }).reason).toMatch(reason);
    });

    it('accepts numeric bounds at the documented limits and six decimals', () => {
      expect(() => validatePattern({ n: [{ numeric: ['>=', -5e9, '<=', 5e9] }] })).not.toThrow();
      expect(matchesPattern({ n: [{ numeric: ['=', 0.000001] }] }, { n: 0.000001 })).toBe(true);
    });

    it.each<[string, unknown, RegExp]>([
      ['no mask', '10.0.0.1', /one '\/' required/],
      ['two slashes', '10.0.0.0/24/8', /one '\/' required/],
      ['a non-integer mask', '10.0.0.0/x', /mask bits must be an integer/],
      ['an octet above 255', '10.0.0.256/24', /Invalid IP address/],
      ['a hostname', 'example.com/24', /Invalid IP address/],
      ['an IPv4 mask of 32', '10.0.0.1/32', /IPv4 mask bits must be < 32/],
      ['an IPv6 mask of 128', '2001:db8::1/128', /IPv6 mask bits must be < 128/],
      ['a malformed IPv6 address', '2001:db8:::1/64', /Invalid IP address/],
      ['an IPv6 address with nine groups', '1:2:3:4:5:6:7:8:9/64', /Invalid IP address/],
      ['an IPv6 address with three groups and no ::', '1:2:3/64', /Invalid IP address/],
      ['an IPv6 address with :: and eight groups', '1:2::3:4:5:6:7:8/64', /Invalid IP address/],
      ['an IPv6 address with two ::', '1::2::3/64', /Invalid IP address/],
      ['a non-string', 10, /cidr match pattern must be a string/],
    ])('rejects cidr with %s', (_case, operand, reason) => {
      expect(rejection({ detail: { ip: [{ cidr: operand }] } }).reason).toMatch(reason);
    });

    it.each<[string, unknown, RegExp]>([
      ['an object value', { $or: { source: ['aws.ec2'] } }, /must be an Array/],
      ['a single branch', { $or: [{ source: ['aws.ec2'] }] }, /at least 2 Objects/],
      ['an empty array', { $or: [] }, /at least 2 Objects/],
      ['a scalar branch', { $or: ['aws.ec2', { source: ['aws.s3'] }] }, /Only JSON object is allowed/],
      ['an empty branch', { $or: [{}, { source: ['aws.s3'] }] }, /Empty objects are not allowed/],
      [
        'a reserved field name in a branch',
        { $or: [{ numeric: [1] }, { prefix: ['abc'] }] },
        /reserved field name/,
      ],
      [
        'a reserved field name nested in a branch',
        { $or: [{ detail: { exists: ['x'] } }, { source: ['aws.s3'] }] },
        /reserved field name/,
      ],
    ])('rejects $or with %s', (_case, pattern, reason) => {
      expect(rejection(pattern).reason).toMatch(reason);
    });

    it('rejects $or expanding to more than 1000 combinations, and accepts exactly 1000', () => {
      const branches = (field: string, count: number) =>
        Array.from({ length: count }, (_unused, index) => ({ [field]: [index] }));
      const atLimit = {
        a: { $or: branches('x', 10) },
        b: { $or: branches('y', 10) },
        c: { $or: branches('z', 10) },
      };
      const overLimit = { ...atLimit, c: { $or: branches('z', 11) } };
      expect(() => validatePattern(atLimit)).not.toThrow();
      expect(rejection(overLimit).reason).toMatch(/1100 rule combinations/);
    });

    it.each<[string, unknown, RegExp]>([
      ['invalid JSON text', '{"source": ["aws.ec2"]', /not valid JSON/],
      ['a JSON array', '[{"source": ["aws.ec2"]}]', /Filter is not an object/],
      ['an array', [{ source: ['aws.ec2'] }], /Filter is not an object/],
      ['null', null, /Filter is not an object/],
      ['a number', 42, /Filter is not an object/],
    ])('rejects a whole pattern that is %s', (_case, pattern, reason) => {
      expect(rejection(pattern).reason).toMatch(reason);
    });

    it('accepts every documented operator', () => {
      const documented = {
        source: ['aws.ec2', { prefix: 'aws.' }, { suffix: 'ec2' }, { 'equals-ignore-case': 'AWS.EC2' }],
        region: [{ prefix: { 'equals-ignore-case': 'US-' } }, { suffix: { 'equals-ignore-case': '-1' } }],
        FilePath: [{ wildcard: 'dir/*.png' }, { 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }],
        detail: {
          state: [
            { 'anything-but': { 'equals-ignore-case': ['a', 'b'] } },
            { 'anything-but': { prefix: 'init' } },
          ],
          FileName: [{ 'anything-but': { suffix: '.png' } }, ''],
          'c-count': [{ numeric: ['>', 0, '<=', 5] }, { exists: false }],
          'x-limit': [{ 'anything-but': [100, 200, 300] }, null, true],
          ip: [{ cidr: '10.0.0.0/24' }, { cidr: '2001:db8::/32' }],
          $or: [{ a: [{ exists: true }] }, { b: [{ numeric: ['=', 3.018e2] }] }],
        },
      };
      expect(() => validatePattern(documented)).not.toThrow();
      expect(() => validatePattern(JSON.stringify(documented))).not.toThrow();
    });
  });
});
