import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { SQUARE_API_VERSION } from '#shared/connectors/square/api-version.ts';
import { shopifyGraphql } from '#shared/inventory/shopify-publisher.ts';
import {
  type PlanStep,
  type RegistrationPorts,
  type RegistrationResult,
  registerWebhooks,
  type ShopifySubscription,
  type SquareSubscription,
} from '#shared/onboarding/webhook-registration.ts';
import { localHealth, OpsError, roleName } from './hub.ts';
import { stackOutputs } from './ops-client.ts';

/**
 * `npm run -s ops -- register-webhooks [--local | --env <env>] [--dry-run]`: makes the Shopify and Square webhook
 * subscriptions match what the hub consumes (shared/onboarding/webhook-registration.ts), through the
 * vendors' own APIs — Shopify Admin GraphQL `webhookSubscriptions` / `webhookSubscriptionCreate` /
 * `webhookSubscriptionUpdate` (https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionCreate)
 * with the shop's Admin API token, Square's Webhook Subscriptions API (List/Create/Update:
 * https://developer.squareup.com/reference/square/webhook-subscriptions-api) with the app's access token
 * — reading the tokens from, and storing a new Square signature key into, the stack's secrets.
 */

/** Shopify Admin GraphQL documents (validated against Shopify's schema by test/sandbox/register-webhooks.test.ts). */
export const WEBHOOK_SUBSCRIPTIONS_QUERY = /* GraphQL */ `
  query HubWebhookSubscriptions($after: String) {
    webhookSubscriptions(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id topic uri }
    }
  }
`;
export const WEBHOOK_SUBSCRIPTION_CREATE = /* GraphQL */ `
  mutation HubWebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $subscription: WebhookSubscriptionInput!) {
    webhookSubscriptionCreate(topic: $topic, webhookSubscription: $subscription) {
      webhookSubscription { id }
      userErrors { field message }
    }
  }
`;
export const WEBHOOK_SUBSCRIPTION_UPDATE = /* GraphQL */ `
  mutation HubWebhookSubscriptionUpdate($id: ID!, $subscription: WebhookSubscriptionInput!) {
    webhookSubscriptionUpdate(id: $id, webhookSubscription: $subscription) {
      webhookSubscription { id }
      userErrors { field message }
    }
  }
`;

const ListSchema = z.object({
  webhookSubscriptions: z.object({
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
    nodes: z.array(z.object({ id: z.string(), topic: z.string(), uri: z.string() })),
  }),
});
const MutationSchema = z.record(
  z.string(),
  z.object({ userErrors: z.array(z.object({ message: z.string() })) }).nullable(),
);

const SquareSubscriptionSchema = z.object({
  id: z.string(),
  name: z.string().nullable().optional(),
  notification_url: z.string(),
  event_types: z.array(z.string()).nullable().optional(),
  enabled: z.boolean().nullable().optional(),
  signature_key: z.string().optional(),
});

const AccessTokenSchema = z.object({ accessToken: z.string().min(1) });
const SigningSecretSchema = z.object({ current: z.string().min(1) }).loose();

/** How long Square deliveries signed with the replaced key still verify. */
const PREVIOUS_KEY_HOURS = 24;

/** Shopify and Square subscription ports over their HTTP APIs. */
export function vendorPorts(options: {
  readonly shopifyBaseUrl: string;
  readonly shopifyToken: string;
  readonly squareBaseUrl: string;
  readonly squareToken: string;
  readonly storeSquareSignatureKey: (key: string) => Promise<void>;
  readonly fetch?: typeof fetch;
}): RegistrationPorts {
  const fetchFn = options.fetch ?? fetch;
  const graphql = shopifyGraphql({
    baseUrl: options.shopifyBaseUrl,
    accessToken: options.shopifyToken,
    fetch: fetchFn,
  });
  const gql = async (document: string, variables: Record<string, unknown>) => {
    const answer = await graphql(document, variables);
    if (answer.errors.length > 0)
      throw new OpsError(`Shopify refused: ${answer.errors.map((e) => e.message).join('; ')}`);
    return answer.data;
  };
  const mutate = async (document: string, variables: Record<string, unknown>) => {
    const data = MutationSchema.parse(await gql(document, variables));
    const errors = Object.values(data).flatMap((payload) => payload?.userErrors ?? []);
    if (errors.length > 0) throw new OpsError(`Shopify refused: ${errors.map((e) => e.message).join('; ')}`);
  };
  const square = async (method: string, path: string, body?: unknown) => {
    const response = await fetchFn(`${options.squareBaseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.squareToken}`,
        'square-version': SQUARE_API_VERSION,
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok)
      throw new OpsError(`Square ${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  return {
    shopify: {
      async list() {
        const out: ShopifySubscription[] = [];
        let after: string | null = null;
        for (;;) {
          const page: z.infer<typeof ListSchema>['webhookSubscriptions'] = ListSchema.parse(
            await gql(WEBHOOK_SUBSCRIPTIONS_QUERY, { after }),
          ).webhookSubscriptions;
          out.push(...page.nodes);
          if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return out;
          after = page.pageInfo.endCursor;
        }
      },
      create: (topic, uri) =>
        mutate(WEBHOOK_SUBSCRIPTION_CREATE, { topic, subscription: { uri, format: 'JSON' } }),
      update: (id, uri) => mutate(WEBHOOK_SUBSCRIPTION_UPDATE, { id, subscription: { uri } }),
    },
    square: {
      async list(): Promise<SquareSubscription[]> {
        const out: SquareSubscription[] = [];
        let cursor: string | undefined;
        do {
          const page = await square(
            'GET',
            `/v2/webhooks/subscriptions${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`,
          );
          for (const raw of (page.subscriptions as unknown[] | undefined) ?? []) {
            const s = SquareSubscriptionSchema.parse(raw);
            out.push({
              id: s.id,
              name: s.name ?? null,
              notificationUrl: s.notification_url,
              eventTypes: s.event_types ?? [],
              enabled: s.enabled ?? true,
            });
          }
          cursor = typeof page.cursor === 'string' ? page.cursor : undefined;
        } while (cursor);
        return out;
      },
      async create(name, uri, eventTypes) {
        const answer = await square('POST', '/v2/webhooks/subscriptions', {
          idempotency_key: crypto.randomUUID(),
          subscription: {
            name,
            event_types: eventTypes,
            notification_url: uri,
            api_version: SQUARE_API_VERSION,
          },
        });
        const created = SquareSubscriptionSchema.parse(answer.subscription);
        if (!created.signature_key)
          throw new OpsError('Square created the subscription without a signature key');
        return { signatureKey: created.signature_key };
      },
      async update(id, patch) {
        await square('PUT', `/v2/webhooks/subscriptions/${encodeURIComponent(id)}`, {
          subscription: { notification_url: patch.uri, event_types: patch.eventTypes, enabled: true },
        });
      },
    },
    storeSquareSignatureKey: options.storeSquareSignatureKey,
  };
}

/** A new Square signature key as `current`, the one it replaces kept as `previous` for a while. */
async function storeSignatureKey(
  secrets: SecretsManagerClient,
  secretId: string,
  key: string,
  read: () => Promise<unknown>,
): Promise<void> {
  const old = SigningSecretSchema.safeParse(await read());
  const previous = old.success && old.data.current !== key ? old.data.current : undefined;
  await secrets.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      SecretString: JSON.stringify({
        current: key,
        ...(previous
          ? { previous, previousUntil: new Date(Date.now() + PREVIOUS_KEY_HOURS * 3600_000).toISOString() }
          : {}),
      }),
    }),
  );
}

const ShopsOutputSchema = z
  .array(z.object({ domain: z.string(), adminBaseUrl: z.string(), tokenSecretArn: z.string() }))
  .min(1);

/** The clients `registerDeployed` works with (tests give their own). */
export interface DeployedClients {
  readonly cloudFormation: Pick<CloudFormationClient, 'send'>;
  readonly secrets: Pick<SecretsManagerClient, 'send'>;
  readonly fetch?: typeof fetch;
}

/**
 * Against a deployed environment (`--env <env>`): the stack `Omnihub-<env>`'s outputs name the webhook URLs
 * (API Gateway), each shop's Admin API and token secret, the Square API and its secrets; the tokens are read
 * from Secrets Manager with the operator's AWS credentials, as the AWS CLI takes them. Every shop gets the
 * hub's Shopify subscriptions; the one Square merchant gets its subscription once.
 */
export async function registerDeployed(
  env: string,
  dryRun: boolean,
  clients?: DeployedClients,
): Promise<{ result: RegistrationResult; target: string }> {
  const own = clients ? undefined : { secrets: new SecretsManagerClient({}) };
  const secrets = clients?.secrets ?? (own?.secrets as SecretsManagerClient);
  try {
    const { stackName, output } = await stackOutputs(env, clients?.cloudFormation);
    const shops = ShopsOutputSchema.parse(JSON.parse(output('ShopifyShops')));
    const read = async (secretId: string) => {
      const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
      return JSON.parse(SecretString ?? '{}') as unknown;
    };
    const token = async (secretId: string, what: string) => {
      const parsed = AccessTokenSchema.safeParse(await read(secretId));
      if (!parsed.success)
        throw new OpsError(
          `${what}: the secret ${secretId} holds no {"accessToken": "..."} yet; store it first`,
        );
      return parsed.data.accessToken;
    };
    const squareToken = await token(output('SquareAccessTokenSecretArn'), 'Square');
    const signatureSecret = output('SquareSignatureKeySecretArn');
    const steps: PlanStep[] = [];
    let changed = 0;
    for (const [index, shop] of shops.entries()) {
      const ports = vendorPorts({
        shopifyBaseUrl: shop.adminBaseUrl,
        shopifyToken: await token(shop.tokenSecretArn, shop.domain),
        squareBaseUrl: output('SquareBaseUrl'),
        squareToken,
        storeSquareSignatureKey: (key) =>
          storeSignatureKey(secrets as SecretsManagerClient, signatureSecret, key, () =>
            read(signatureSecret),
          ),
        ...(clients?.fetch ? { fetch: clients.fetch } : {}),
      });
      const result = await registerWebhooks(
        ports,
        { shopify: output('ShopifyWebhookUrl'), square: output('PosWebhookUrl') },
        { dryRun },
      );
      // The merchant's Square subscription is planned (and applied) with the first shop; later shops find it.
      steps.push(...result.steps.filter((step) => index === 0 || step.system === 'shopify'));
      changed += result.changed;
    }
    return { result: { steps, changed }, target: `${stackName} (${shops.map((s) => s.domain).join(', ')})` };
  } finally {
    own?.secrets.destroy();
  }
}

/** Against the running local cloud: its sandboxes, its secrets, its webhook routes. */
export async function registerLocal(
  dryRun: boolean,
  url?: string,
): Promise<{ result: RegistrationResult; target: string }> {
  const health = await localHealth(url);
  const secrets = new SecretsManagerClient({
    endpoint: health.endpoints.aws,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const read = async (role: Parameters<typeof roleName>[1]) => {
      const { SecretString } = await secrets.send(
        new GetSecretValueCommand({ SecretId: roleName(health, role) }),
      );
      return JSON.parse(SecretString ?? '{}') as unknown;
    };
    const base = health.endpoints.http;
    const signatureSecret = roleName(health, 'square-signature-key');
    const ports = vendorPorts({
      shopifyBaseUrl: `${base}/_sandbox/shopify`,
      shopifyToken: AccessTokenSchema.parse(await read('shopify-admin-token')).accessToken,
      squareBaseUrl: `${base}/_sandbox/square`,
      squareToken: AccessTokenSchema.parse(await read('square-access-token')).accessToken,
      storeSquareSignatureKey: (key) =>
        storeSignatureKey(secrets, signatureSecret, key, () => read('square-signature-key')),
    });
    const result = await registerWebhooks(
      ports,
      { shopify: `${base}/webhooks/shopify`, square: `${base}/webhooks/pos` },
      { dryRun },
    );
    return { result, target: `${health.stack} (local)` };
  } finally {
    secrets.destroy();
  }
}

const describe = (step: PlanStep): string => {
  const what = step.system === 'shopify' ? step.topic : `[${step.eventTypes.join(', ')}]`;
  switch (step.action) {
    case 'ok':
      return `  ok       ${step.system} ${what} → ${step.uri}`;
    case 'create':
      return `  create   ${step.system} ${what} → ${step.uri}`;
    case 'update':
      return `  update   ${step.system} ${what}: ${step.from} → ${step.uri}`;
    case 'extra':
      return `  extra    ${step.system} ${what} → ${step.uri} (${step.id}; not the hub's: left as it is)`;
    case 'manual':
      return `  manual   ${step.system} ${what}: set in the app's configuration (compliance topics cannot be subscribed through the API)`;
  }
};

export function formatRegistration(result: RegistrationResult, target: string, dryRun: boolean): string[] {
  const count = (action: PlanStep['action']) => result.steps.filter((s) => s.action === action).length;
  return [
    `webhook subscriptions of ${target}${dryRun ? ' (dry run: nothing changed)' : ''}`,
    ...result.steps.map(describe),
    '',
    `${count('ok')} ok, ${count('create')} to create, ${count('update')} to update, ${count('extra')} extra, ${count('manual')} manual; ${result.changed} changed`,
  ];
}
