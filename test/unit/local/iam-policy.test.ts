import { describe, expect, it } from 'vitest';
import {
  arnMatch,
  type EvaluationRequest,
  evaluate,
  type Principal,
  parsePolicy,
  type RequestContext,
  UnsupportedPolicyError,
} from '#local/iam/policy.ts';

const ROLE: Principal = {
  kind: 'role',
  roleArn: 'arn:aws:iam::000000000000:role/fn-role',
  sessionArn: 'arn:aws:sts::000000000000:assumed-role/fn-role/fn',
  account: '000000000000',
};
const EVENTS: Principal = { kind: 'service', service: 'events.amazonaws.com' };
const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/orders';
/** An IAM policy variable as a policy spells it: `$` `{name}`. */
const variable = (name: string) => `$${'{'}${name}}`;

function identity(...statements: unknown[]) {
  return parsePolicy({ Version: '2012-10-17', Statement: statements }, 'identity', 'test policy');
}

function resource(...statements: unknown[]) {
  return parsePolicy({ Version: '2012-10-17', Statement: statements }, 'resource', 'test resource policy');
}

function request(action: string, resourceArn: string, context: RequestContext = {}, principal = ROLE) {
  return { principal, action, resource: resourceArn, context } satisfies EvaluationRequest;
}

describe('IAM policy evaluation', () => {
  describe('actions and resources', () => {
    it('allows what a statement grants, with case-insensitive action wildcards and resource wildcards', () => {
      const policy = identity({
        Effect: 'Allow',
        Action: 'DynamoDB:Get*',
        Resource: 'arn:aws:dynamodb:*:*:table/ord?rs',
      });
      expect(evaluate(request('dynamodb:GetItem', TABLE), [policy], undefined).decision).toBe('allow');
      expect(evaluate(request('dynamodb:PutItem', TABLE), [policy], undefined).decision).toBe(
        'implicit-deny',
      );
      expect(
        evaluate(request('dynamodb:GetItem', `${TABLE}/index/byCustomer`), [policy], undefined).decision,
      ).toBe('implicit-deny');
    });

    it('lets an explicit Deny win over any Allow, and reads NotAction / NotResource', () => {
      const policies = [
        identity({ Effect: 'Allow', Action: '*', Resource: '*' }),
        identity({ Effect: 'Deny', NotAction: 'dynamodb:GetItem', NotResource: `${TABLE}-archive` }),
      ];
      expect(evaluate(request('dynamodb:GetItem', TABLE), policies, undefined).decision).toBe('allow');
      const denied = evaluate(request('dynamodb:PutItem', TABLE), policies, undefined);
      expect(denied).toMatchObject({ decision: 'explicit-deny', deniedBy: { kind: 'identity' } });
      expect(evaluate(request('dynamodb:PutItem', `${TABLE}-archive`), policies, undefined).decision).toBe(
        'allow',
      );
    });
  });

  describe('condition operators', () => {
    const allowWhen = (condition: unknown) =>
      identity({ Effect: 'Allow', Action: 'events:PutEvents', Resource: '*', Condition: condition });
    const decide = (condition: unknown, context: RequestContext) =>
      evaluate(
        request('events:PutEvents', 'arn:aws:events:us-east-1:000000000000:event-bus/hub', context),
        [allowWhen(condition)],
        undefined,
      ).decision;

    it('StringEquals ORs its values and ANDs its keys; StringLike takes * and ?', () => {
      const condition = {
        StringEquals: {
          'events:source': ['omnihub.shopify', 'omnihub.pos'],
          'events:detail-type': 'OrderCreated',
        },
      };
      expect(
        decide(condition, { 'events:source': ['omnihub.pos'], 'events:detail-type': ['OrderCreated'] }),
      ).toBe('allow');
      expect(
        decide(condition, { 'events:source': ['omnihub.pos'], 'events:detail-type': ['OrderUpdated'] }),
      ).toBe('implicit-deny');
      expect(
        decide({ StringLike: { 'events:source': 'omnihub.?o*' } }, { 'events:source': ['omnihub.pos'] }),
      ).toBe('allow');
    });

    it('is false for a missing key, except for negated operators, IfExists and Null', () => {
      expect(decide({ StringEquals: { 'events:source': 'a' } }, {})).toBe('implicit-deny');
      expect(decide({ StringNotEquals: { 'events:source': 'a' } }, {})).toBe('allow');
      expect(decide({ StringEqualsIfExists: { 'events:source': 'a' } }, {})).toBe('allow');
      expect(decide({ StringEqualsIfExists: { 'events:source': 'a' } }, { 'events:source': ['b'] })).toBe(
        'implicit-deny',
      );
      expect(decide({ Null: { 'events:source': 'true' } }, {})).toBe('allow');
      expect(decide({ Null: { 'events:source': 'false' } }, {})).toBe('implicit-deny');
    });

    it('NORs the values of a negated operator', () => {
      const condition = { StringNotEquals: { 'events:source': ['a', 'b'] } };
      expect(decide(condition, { 'events:source': ['b'] })).toBe('implicit-deny');
      expect(decide(condition, { 'events:source': ['c'] })).toBe('allow');
    });

    it('ForAllValues holds when every request value matches, and for no values at all; ForAnyValue needs one', () => {
      const all = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['shop-1', 'shop-2'] } };
      const any = { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': 'shop-*' } };
      expect(decide(all, { 'dynamodb:leadingkeys': ['shop-1', 'shop-2'] })).toBe('allow');
      expect(decide(all, { 'dynamodb:leadingkeys': ['shop-1', 'shop-3'] })).toBe('implicit-deny');
      expect(decide(all, {})).toBe('allow');
      expect(decide(any, { 'dynamodb:leadingkeys': ['x', 'shop-9'] })).toBe('allow');
      expect(decide(any, {})).toBe('implicit-deny');
    });

    it('matches ARNs component by component (ArnLike, ArnEquals) and Bool as text', () => {
      expect(
        arnMatch(
          'arn:aws:events:*:000000000000:rule/hub/*',
          'arn:aws:events:us-east-1:000000000000:rule/hub/r',
        ),
      ).toBe(true);
      expect(
        arnMatch('arn:aws:events:*:000000000000:rule/*', 'arn:aws:events:us-east-1:111111111111:rule/r'),
      ).toBe(false);
      expect(arnMatch('arn:aws:events:*:*:rule/r', 'not-an-arn')).toBe(false);
      expect(decide({ Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:securetransport': ['true'] })).toBe(
        'allow',
      );
      expect(
        decide(
          { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/admin-*' } },
          {
            'aws:principalarn': [ROLE.kind === 'role' ? ROLE.roleArn : ''],
          },
        ),
      ).toBe('allow');
    });

    it('reads condition key names case-insensitively', () => {
      expect(decide({ StringEquals: { 'Events:Source': 'a' } }, { 'events:source': ['a'] })).toBe('allow');
    });

    it('substitutes policy variables (2012-10-17 only) in resources and condition values', () => {
      const policy = identity({
        Effect: 'Allow',
        Action: 'dynamodb:GetItem',
        Resource: TABLE,
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': variable('aws:PrincipalArn') } },
      });
      const context = { 'aws:principalarn': ['arn:aws:iam::000000000000:role/fn-role'] };
      expect(
        evaluate(
          request('dynamodb:GetItem', TABLE, {
            ...context,
            'dynamodb:leadingkeys': ['arn:aws:iam::000000000000:role/fn-role'],
          }),
          [policy],
          undefined,
        ).decision,
      ).toBe('allow');
      expect(
        evaluate(
          request('dynamodb:GetItem', TABLE, { ...context, 'dynamodb:leadingkeys': ['someone-else'] }),
          [policy],
          undefined,
        ).decision,
      ).toBe('implicit-deny');
    });

    it('reports the condition keys that kept an otherwise matching Allow from applying', () => {
      const evaluation = evaluate(
        request('events:PutEvents', 'arn:aws:events:us-east-1:000000000000:event-bus/hub', {
          'events:source': ['x'],
        }),
        [allowWhen({ StringEquals: { 'events:source': 'omnihub.pos' } })],
        undefined,
      );
      expect(evaluation).toMatchObject({ decision: 'implicit-deny', failedConditionKeys: ['events:source'] });
    });
  });

  describe('refusing what it does not evaluate', () => {
    it.each([
      [
        'an unknown operator',
        { DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' } },
        /DateGreaterThan/,
      ],
      ['an unknown condition key', { StringEquals: { 'aws:SourceVpce': 'vpce-1' } }, /aws:SourceVpce/],
      [
        'a multivalued key without set operator',
        { StringEquals: { 'dynamodb:LeadingKeys': 'a' } },
        /multivalued/,
      ],
      ['Null with IfExists', { NullIfExists: { 'events:source': 'true' } }, /NullIfExists/],
    ])('stops on %s', (_name, condition, message) => {
      expect(() => identity({ Effect: 'Allow', Action: '*', Resource: '*', Condition: condition })).toThrow(
        message,
      );
    });

    it('stops on an unknown policy variable, element or principal type', () => {
      expect(() =>
        identity({ Effect: 'Allow', Action: '*', Resource: `arn:aws:s3:::${variable('aws:username')}/*` }),
      ).toThrow(UnsupportedPolicyError);
      expect(() =>
        identity({ Effect: 'Allow', Action: '*', Resource: '*', NotPrincipal: { AWS: '*' } }),
      ).toThrow(/NotPrincipal/);
      expect(() => resource({ Effect: 'Allow', Principal: { Federated: 'cognito' }, Action: '*' })).toThrow(
        /Federated/,
      );
    });

    it('keeps policy variables literal in a 2008-10-17 policy', () => {
      const policy = parsePolicy(
        {
          Version: '2008-10-17',
          Statement: [{ Effect: 'Allow', Action: '*', Resource: `arn:aws:s3:::${variable('x')}` }],
        },
        'identity',
        'old',
      );
      expect(
        evaluate(request('s3:GetObject', `arn:aws:s3:::${variable('x')}`), [policy], undefined).decision,
      ).toBe('allow');
    });
  });

  describe('resource-based policies (same account)', () => {
    const queue = 'arn:aws:sqs:us-east-1:000000000000:orders';
    const rule = 'arn:aws:events:us-east-1:000000000000:rule/hub/orders-to-erp';

    it('lets a service principal in only through the resource policy, with its conditions', () => {
      const policy = resource({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queue,
        Condition: { ArnEquals: { 'aws:SourceArn': rule } },
      });
      expect(
        evaluate(request('sqs:SendMessage', queue, { 'aws:sourcearn': [rule] }, EVENTS), [], policy).decision,
      ).toBe('allow');
      expect(
        evaluate(
          request('sqs:SendMessage', queue, { 'aws:sourcearn': [`${rule}-other`] }, EVENTS),
          [],
          policy,
        ).decision,
      ).toBe('implicit-deny');
      expect(
        evaluate(request('sqs:SendMessage', queue, { 'aws:sourcearn': [rule] }, EVENTS), [], undefined)
          .decision,
      ).toBe('implicit-deny');
    });

    it('allows a role named by the resource policy without an identity grant; an account principal only delegates', () => {
      const named = resource({
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::000000000000:role/fn-role' },
        Action: 'sqs:*',
      });
      const account = resource({ Effect: 'Allow', Principal: { AWS: '000000000000' }, Action: 'sqs:*' });
      expect(evaluate(request('sqs:SendMessage', queue), [], named).decision).toBe('allow');
      expect(evaluate(request('sqs:SendMessage', queue), [], account).decision).toBe('implicit-deny');
    });

    it('applies a Deny for everyone ({"AWS": "*"}) to roles and services alike', () => {
      const policy = resource(
        { Effect: 'Allow', Principal: '*', Action: 'sqs:SendMessage' },
        {
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      );
      expect(
        evaluate(request('sqs:SendMessage', queue, { 'aws:securetransport': ['false'] }), [], policy)
          .decision,
      ).toBe('explicit-deny');
      expect(
        evaluate(request('sqs:SendMessage', queue, { 'aws:securetransport': ['true'] }, EVENTS), [], policy)
          .decision,
      ).toBe('allow');
    });
  });
});
