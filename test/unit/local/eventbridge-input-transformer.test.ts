import { describe, expect, it } from 'vitest';
import type { EventBridgeEvent } from '#local/eventbridge/event.ts';
import {
  compileInputTransformer,
  compileJsonPath,
  compileTargetInput,
  type InputContext,
  InvalidTargetInputError,
} from '#local/eventbridge/input-transformer.ts';

// The example event, Input Path and templates of the User Guide's "Amazon EventBridge input transformation"
// page (examples table), plus the API Reference's InputTransformer examples.

const EC2_EVENT: EventBridgeEvent = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2015-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: { 'instance-id': 'i-0123456789', state: 'RUNNING' },
};

const CONTEXT: InputContext = {
  event: EC2_EVENT,
  ruleArn: 'arn:aws:events:us-east-2:123456789012:rule/example',
  ruleName: 'example',
  ingestionTime: '2015-11-11T21:29:55.123Z',
};

const PATHS = { timestamp: '$.time', instance: '$.detail.instance-id', state: '$.detail.state' };

const render = (template: string, paths: Record<string, string> = PATHS) =>
  compileInputTransformer(paths, template)(CONTEXT);

describe('InputTransformer: the guide’s examples table', () => {
  it('simple string', () => {
    expect(render('"instance <instance> is in <state>"')).toBe('"instance i-0123456789 is in RUNNING"');
  });

  it('string with escaped quotes', () => {
    expect(render('"instance \\"<instance>\\" is in <state>"')).toBe(
      '"instance \\"i-0123456789\\" is in RUNNING"',
    );
  });

  it('simple JSON: bare placeholders become JSON strings', () => {
    expect(JSON.parse(render('{\n  "instance" : <instance>,\n  "state": <state>\n}'))).toEqual({
      instance: 'i-0123456789',
      state: 'RUNNING',
    });
  });

  it('JSON with strings and variables, minified', () => {
    const output = render(
      '{\n "instance" : <instance>,\n "state": "<state>",\n "instanceStatus": "instance \\"<instance>\\" is in <state>"\n}',
    );
    expect(output).toBe(
      '{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \\"i-0123456789\\" is in RUNNING"}',
    );
  });

  it('JSON with a mix of variables and static information', () => {
    expect(
      JSON.parse(
        render('{\n  "instance" : <instance>,\n  "state": [ 9, <state>, true ],\n  "Transformed" : "Yes"\n}'),
      ),
    ).toEqual({
      instance: 'i-0123456789',
      state: [9, 'RUNNING', true],
      Transformed: 'Yes',
    });
  });

  it('including reserved variables in JSON', () => {
    const output = JSON.parse(
      render(
        '{"instance" : <instance>, "state": <state>, "ruleArn" : <aws.events.rule-arn>, "ruleName" : <aws.events.rule-name>, "originalEvent" : <aws.events.event>, "full": <aws.events.event.json>, "at": <aws.events.event.ingestion-time>}',
      ),
    );
    const { detail: _detail, ...withoutDetail } = EC2_EVENT;
    expect(output).toEqual({
      instance: 'i-0123456789',
      state: 'RUNNING',
      ruleArn: 'arn:aws:events:us-east-2:123456789012:rule/example',
      ruleName: 'example',
      originalEvent: withoutDetail,
      full: EC2_EVENT,
      at: '2015-11-11T21:29:55.123Z',
    });
  });

  it('including reserved variables in a string', () => {
    expect(render('"<aws.events.rule-name> triggered"')).toBe('"example triggered"');
  });
});

describe('InputTransformer: API Reference examples and documented rules', () => {
  const STATUS_PATHS = { instance: '$.detail.instance-id', status: '$.detail.state' };

  it('a text template inserts values as they are', () => {
    expect(render('<instance> is in state <status>', STATUS_PATHS)).toBe('i-0123456789 is in state RUNNING');
  });

  it('a JSON template with variables in quotes and out', () => {
    expect(
      render('{"myInstance": <instance>,"myStatus": "<instance> is in state \\"<status>\\""}', STATUS_PATHS),
    ).toBe('{"myInstance":"i-0123456789","myStatus":"i-0123456789 is in state \\"RUNNING\\""}');
  });

  it('objects and arrays go in as JSON; numbers, booleans and null keep their type outside quotes', () => {
    const context: InputContext = {
      ...CONTEXT,
      event: {
        ...EC2_EVENT,
        detail: { count: 3, ok: false, nothing: null, tags: ['a', 'b'], nested: { x: 1 } },
      },
    };
    const paths = {
      count: '$.detail.count',
      ok: '$.detail.ok',
      nothing: '$.detail.nothing',
      tags: '$.detail.tags',
      nested: '$.detail.nested',
    };
    const renderer = compileInputTransformer(
      paths,
      '{"count": <count>, "ok": <ok>, "nothing": <nothing>, "tags": <tags>, "nested": <nested>, "text": "<count>/<ok>/<nothing>"}',
    );
    expect(JSON.parse(renderer(context))).toEqual({
      count: 3,
      ok: false,
      nothing: null,
      tags: ['a', 'b'],
      nested: { x: 1 },
      text: '3/false/null',
    });
    // Inside a string an array goes in as its JSON text, unescaped: the result is not JSON, and is sent as is.
    expect(compileInputTransformer(paths, '"<tags>"')(context)).toBe('"["a","b"]"');
  });

  it('does not escape values inserted inside a string ("EventBridge doesn\'t escape values extracted by Input Path")', () => {
    const context: InputContext = { ...CONTEXT, event: { ...EC2_EVENT, detail: { note: 'say "hi"' } } };
    expect(compileInputTransformer({ note: '$.detail.note' }, '"<note>"')(context)).toBe('"say "hi""');
  });

  it('a variable whose path matches nothing is not created: empty in a string, null as a value', () => {
    expect(render('{"missing": <ghost>, "text": "[<ghost>]"}', { ghost: '$.detail.nope' })).toBe(
      '{"missing":null,"text":"[]"}',
    );
  });

  it('leaves <words> that are not variables alone', () => {
    expect(render('<b>bold</b> <instance>', STATUS_PATHS)).toBe('<b>bold</b> i-0123456789');
  });

  it('rejects reserved variable names, a placeholder as an object key, and too many variables', () => {
    expect(() =>
      compileInputTransformer({ 'aws.events.rule-name': '$.x' }, '<aws.events.rule-name>'),
    ).toThrow(InvalidTargetInputError);
    expect(() => compileInputTransformer({ AWSfoo: '$.x', 'AWS.x': '$.y' }, '"x"')).toThrow(/reserved/);
    expect(() => compileInputTransformer({ key: '$.detail.state' }, '{<key>: 1}')).toThrow(/object key/);
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, index) => [`v${index}`, '$.id']));
    expect(() => compileInputTransformer(many, '"x"')).toThrow(/at most 100/);
  });
});

describe('Input, InputPath and the default', () => {
  it('defaults to the whole event', () => {
    expect(JSON.parse(compileTargetInput({})(CONTEXT))).toEqual(EC2_EVENT);
  });

  it('Input is passed as constant JSON, minified', () => {
    expect(compileTargetInput({ Input: '{ "a" : [1, 2] }' })(CONTEXT)).toBe('{"a":[1,2]}');
  });

  it('InputPath selects part of the event', () => {
    expect(compileTargetInput({ InputPath: '$' })(CONTEXT)).toBe(JSON.stringify(EC2_EVENT));
    expect(compileTargetInput({ InputPath: '$.detail' })(CONTEXT)).toBe(
      '{"instance-id":"i-0123456789","state":"RUNNING"}',
    );
    expect(compileTargetInput({ InputPath: '$.detail.state' })(CONTEXT)).toBe('"RUNNING"');
  });

  it('allows only one of Input, InputPath and InputTransformer', () => {
    expect(() => compileTargetInput({ Input: '{}', InputPath: '$' })).toThrow(InvalidTargetInputError);
    expect(() => compileTargetInput({ InputPath: '$', InputTransformer: { InputTemplate: '"x"' } })).toThrow(
      InvalidTargetInputError,
    );
  });
});

describe('JSON paths', () => {
  it('supports dot notation with dashes and slashes, array indices and wildcards', () => {
    const value = {
      detail: { 'a-b': { 'c/d': 1 }, list: [{ id: 'x' }, { id: 'y' }] },
      resources: ['r0', 'r1'],
    };
    expect(compileJsonPath('$.detail.a-b.c/d').select(value)).toBe(1);
    expect(compileJsonPath('$.resources[1]').select(value)).toBe('r1');
    expect(compileJsonPath('$.detail.list[0].id').select(value)).toBe('x');
    expect(compileJsonPath('$.detail.list[*].id').select(value)).toEqual(['x', 'y']);
    expect(compileJsonPath('$.detail.list.*.id').select(value)).toEqual(['x', 'y']);
    expect(compileJsonPath('$.detail.missing.deeper').select(value)).toBeUndefined();
    expect(compileJsonPath('$.resources[5]').select(value)).toBeUndefined();
    expect(compileJsonPath('$.detail.list[*].nope').select(value)).toBeUndefined();
  });

  it('rejects syntax EventBridge does not evaluate', () => {
    expect(() => compileJsonPath('detail')).toThrow(InvalidTargetInputError);
    expect(() => compileJsonPath("$['detail']")).toThrow(InvalidTargetInputError);
    expect(() => compileJsonPath('$..id')).toThrow(InvalidTargetInputError);
    expect(() => compileJsonPath('$.list[0:2]')).toThrow(InvalidTargetInputError);
  });
});
