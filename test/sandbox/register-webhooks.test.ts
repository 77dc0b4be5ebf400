import type { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedServer } from '#sandbox/core/http.ts';
import { createSandbox as createSquare, type SquareSandbox } from '#sandbox/square/index.ts';
import { SQUARE_API_VERSION } from '#shared/connectors/square/api-version.ts';
import {
  registerWebhooks,
  SHOPIFY_MANUAL_TOPICS,
  SHOPIFY_SUBSCRIBED_TOPICS,
  SQUARE_SUBSCRIBED_EVENT_TYPES,
  shopifyTopicEnum,
} from '#shared/onboarding/webhook-registration.ts';
import { formatIssues, loadSquareSpec, recordingFetch } from '#test/support/square-spec.ts';
import {
  type DeployedClients,
  registerDeployed,
  vendorPorts,
  WEBHOOK_SUBSCRIPTION_CREATE,
  WEBHOOK_SUBSCRIPTION_UPDATE,
  WEBHOOK_SUBSCRIPTIONS_QUERY,
} from '../../scripts/ops/register-webhooks.ts';
import { start } from './helpers.ts';
import { assertShopifyDocument, type ShopifyHarness, startShopify } from './shopify-helpers.ts';

/**
 * `register-webhooks` against fresh Shopify and Square sandboxes (no subscription at all): it creates every
 * subscription the hub consumes, a second run changes nothing, a subscription deleted in the sandbox is
 * recreated and one moved elsewhere is moved back. Every Shopify document is valid for Shopify's real Admin
 * schema, every Square call for Square's OpenAPI spec.
 */
const HUB = 'https://hub.example.com';
let shopify: ShopifyHarness;
let square: SquareSandbox;
let squareServer: StartedServer;
let squareUrl: string;
const recorded = recordingFetch();
const sent: string[] = [];
const storedKeys: string[] = [];

const ports = () =>
  vendorPorts({
    shopifyBaseUrl: shopify.base,
    shopifyToken: shopify.app.credentials.accessToken,
    squareBaseUrl: squareUrl,
    squareToken: square.accessToken,
    storeSquareSignatureKey: async (key) => void storedKeys.push(key),
    fetch: async (input, init) => {
      if (String(input).includes('/graphql.json')) {
        sent.push((JSON.parse(String(init?.body)) as { query: string }).query);
        return fetch(input, init);
      }
      return recorded.fetch(input, init);
    },
  });
const urls = { shopify: `${HUB}/webhooks/shopify`, square: `${HUB}/webhooks/pos` };
const run = () => registerWebhooks(ports(), urls, { dryRun: false });

beforeAll(async () => {
  shopify = await startShopify({ seed: 3 });
  square = createSquare({ seed: 3 });
  ({ server: squareServer, url: squareUrl } = await start(square));
});
afterAll(async () => {
  await shopify.close();
  await squareServer.close();
});

describe('register-webhooks against fresh sandboxes', () => {
  it('its Shopify documents are valid for the pinned Admin schema', () => {
    for (const doc of [WEBHOOK_SUBSCRIPTIONS_QUERY, WEBHOOK_SUBSCRIPTION_CREATE, WEBHOOK_SUBSCRIPTION_UPDATE])
      expect(() => assertShopifyDocument(doc)).not.toThrow();
  });

  it('a dry run only plans', async () => {
    const plan = await registerWebhooks(ports(), urls, { dryRun: true });
    expect(plan.changed).toBe(0);
    expect(plan.steps.filter((s) => s.action === 'create')).toHaveLength(
      SHOPIFY_SUBSCRIBED_TOPICS.length + 1,
    );
    expect(shopify.app.store.subscriptions).toHaveLength(0);
    expect(square.subscriptions).toHaveLength(0);
  });

  it('creates every subscription the hub consumes, stores the Square signature key, lists compliance topics as manual', async () => {
    const first = await run();
    expect(first.changed).toBe(SHOPIFY_SUBSCRIBED_TOPICS.length + 1);
    expect(shopify.app.store.subscriptions.map((s) => [s.topic, s.uri]).sort()).toEqual(
      SHOPIFY_SUBSCRIBED_TOPICS.map((t) => [shopifyTopicEnum(t), urls.shopify]).sort(),
    );
    expect(square.subscriptions).toHaveLength(1);
    expect(square.subscriptions[0]?.notification_url).toBe(urls.square);
    expect([...(square.subscriptions[0]?.event_types ?? [])].sort()).toEqual(
      [...SQUARE_SUBSCRIBED_EVENT_TYPES].sort(),
    );
    expect(storedKeys).toEqual([square.subscriptions[0]?.signature_key]);
    expect(
      first.steps.filter((s) => s.action === 'manual').map((s) => (s as { topic: string }).topic),
    ).toEqual([...SHOPIFY_MANUAL_TOPICS]);
  });

  it('a second run changes nothing', async () => {
    const second = await run();
    expect(second.changed).toBe(0);
    expect(second.steps.every((s) => s.action === 'ok' || s.action === 'manual')).toBe(true);
    expect(storedKeys).toHaveLength(1);
  });

  it('recreates a subscription deleted in the sandbox, moves a drifted one back, reports one not its own', async () => {
    const [gone, moved] = shopify.app.store.subscriptions;
    if (!gone || !moved) throw new Error('no subscriptions');
    expect((await shopify.control('DELETE', `subscriptions/${gone.id}`)).status).toBe(200);
    moved.uri = 'https://old-hub.example.com/webhooks/shopify';
    const sq = square.subscriptions[0];
    if (!sq) throw new Error('no Square subscription');
    sq.event_types = ['payment.created'];
    await shopify.control('POST', 'subscriptions', {
      topic: 'products/create',
      uri: 'https://other-app.example.com/hook',
    });
    const third = await run();
    expect(third.changed).toBe(3);
    expect(third.steps.filter((s) => s.action === 'extra').map((s) => s.uri)).toEqual([
      'https://other-app.example.com/hook',
    ]);
    expect(shopify.app.store.subscriptions.filter((s) => s.uri === urls.shopify)).toHaveLength(
      SHOPIFY_SUBSCRIBED_TOPICS.length,
    );
    expect([...(square.subscriptions[0]?.event_types ?? [])].sort()).toEqual(
      [...SQUARE_SUBSCRIBED_EVENT_TYPES].sort(),
    );
    expect((await run()).changed).toBe(0);
  });

  it("--env: finds URLs, shops and secrets in the deployed stack's outputs, and moves the subscriptions to it", async () => {
    const PROD = 'https://hooks.retailer.example';
    const stored = new Map<string, string>([
      ['arn:shopify-token', JSON.stringify({ accessToken: shopify.app.credentials.accessToken })],
      ['arn:square-token', JSON.stringify({ accessToken: square.accessToken })],
      ['arn:square-key', JSON.stringify({ current: 'old-key' })],
    ]);
    const outputs: Record<string, string> = {
      ShopifyWebhookUrl: `${PROD}/webhooks/shopify`,
      PosWebhookUrl: `${PROD}/webhooks/pos`,
      ShopifyShops: JSON.stringify([
        { domain: 'shop.myshopify.com', adminBaseUrl: shopify.base, tokenSecretArn: 'arn:shopify-token' },
      ]),
      SquareBaseUrl: squareUrl,
      SquareAccessTokenSecretArn: 'arn:square-token',
      SquareSignatureKeySecretArn: 'arn:square-key',
    };
    const asked: string[] = [];
    const clients = {
      cloudFormation: {
        send: async (command: DescribeStacksCommand) => {
          asked.push(String(command.input.StackName));
          return {
            Stacks: [
              {
                Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({
                  OutputKey,
                  OutputValue,
                })),
              },
            ],
          };
        },
      },
      secrets: {
        send: async (command: GetSecretValueCommand | PutSecretValueCommand) => {
          const id = String(command.input.SecretId);
          if (command instanceof PutSecretValueCommand) {
            stored.set(id, String(command.input.SecretString));
            return {};
          }
          if (!stored.has(id)) throw new Error(`no secret ${id}`);
          return { SecretString: stored.get(id) };
        },
      },
      // Square's exchanges are recorded for the spec check below; Shopify's go straight to its sandbox.
      fetch: async (input: Parameters<typeof fetch>[0], init?: RequestInit) =>
        String(input).includes('/graphql.json') ? fetch(input, init) : recorded.fetch(input, init),
    } as unknown as DeployedClients;
    const moved = await registerDeployed('prod', false, clients);
    expect(asked).toEqual(['Omnihub-prod']);
    expect(moved.target).toBe('Omnihub-prod (shop.myshopify.com)');
    expect(moved.result.changed).toBe(SHOPIFY_SUBSCRIBED_TOPICS.length + 1);
    const hubTopics = new Set(SHOPIFY_SUBSCRIBED_TOPICS.map(shopifyTopicEnum));
    const ours = shopify.app.store.subscriptions.filter((w) => hubTopics.has(w.topic));
    expect(ours).toHaveLength(SHOPIFY_SUBSCRIBED_TOPICS.length);
    expect(ours.every((w) => w.uri === `${PROD}/webhooks/shopify`)).toBe(true);
    expect(square.subscriptions.map((w) => w.notification_url)).toContain(`${PROD}/webhooks/pos`);
    expect((await registerDeployed('prod', true, clients)).result.changed).toBe(0);
    expect((await registerDeployed('prod', false, clients)).result.changed).toBe(0);
    // A token not stored yet: the operator is told which secret to fill, nothing is called.
    stored.delete('arn:square-token');
    await expect(registerDeployed('prod', false, clients)).rejects.toThrow(/arn:square-token/);
  });

  it('sent Square only what its spec defines, and got spec-valid answers', () => {
    const spec = loadSquareSpec();
    expect(recorded.exchanges.length).toBeGreaterThan(0);
    const issues = recorded.exchanges.flatMap((e) => [
      ...formatIssues(
        `${e.method} ${e.url}`,
        spec.validateRequest({ method: e.method, url: e.url, body: e.requestBody, headers: e.headers }),
      ),
      ...formatIssues(
        `${e.method} ${e.url} → ${e.status}`,
        spec.validateResponse({ method: e.method, url: e.url, status: e.status, body: e.responseBody }),
      ),
    ]);
    expect(issues).toEqual([]);
    expect(recorded.exchanges.every((e) => e.headers.get('square-version') === SQUARE_API_VERSION)).toBe(
      true,
    );
    expect(recorded.exchanges.map((e) => e.method)).toContain('PUT');
  });
});
