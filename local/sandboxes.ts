import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSandboxRouter, type SandboxApp, type SandboxFactory } from '#sandbox/core/http.ts';
import { SQUARE_ORDER_EVENT_TYPES } from '#shared/ingress/pos-webhook.ts';
import { localSecretDefault } from './secrets.ts';

const LOCAL_SQUARE_SIGNATURE_KEY = localSecretDefault('square-signature-key');
const LOCAL_SQUARE_ACCESS_TOKEN = localSecretDefault('square-access-token');

/** The sandbox systems `npm start` mounts under `/_sandbox/<name>`. */
export const SANDBOX_SYSTEMS = ['shopify', 'square', 'netsuite'] as const;

export interface RunningSandboxes {
  readonly names: readonly string[];
  /** The NetSuite sandbox's M2M credentials, as the hub's secret holds them (JSON). */
  readonly netsuiteCredentials: string;
  readonly apps: readonly SandboxApp[];
  readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Starts the sandbox Shopify, POS and ERP systems for the local cloud. Shopify and Square deliver their
 * webhooks to the hub's routes on `hubUrl`, signed with the same local secrets the hub verifies with;
 * Square accepts the access token the hub's local secret holds.
 */
export async function startSandboxes(options: {
  hubUrl: string;
  env: NodeJS.ProcessEnv;
  seed?: number;
  /** Extra construction options per sandbox (e.g. `{ shopify: { webhookConcurrency: 8 } }`). */
  overrides?: Readonly<Record<string, Record<string, unknown>>>;
}): Promise<RunningSandboxes> {
  const seed = Number(options.env.SANDBOX_SEED ?? options.seed ?? 42);
  const settings: Record<string, Record<string, unknown>> = {
    shopify: {
      shopDomain: 'omnihub-dev.myshopify.com',
      appSecret: options.env.OMNIHUB_SHOPIFY_SECRET ?? 'omnihub-local-shopify-secret',
      webhookUrl: `${options.hubUrl}/webhooks/shopify`,
    },
    // Square signs with the local signature key and reads with the local token: the hub's local secrets.
    square: {
      accessToken: options.env.OMNIHUB_SQUARE_ACCESS_TOKEN ?? LOCAL_SQUARE_ACCESS_TOKEN,
      webhooks: [
        {
          url: `${options.hubUrl}/webhooks/pos`,
          signatureKey: options.env.OMNIHUB_SQUARE_SIGNATURE_KEY ?? LOCAL_SQUARE_SIGNATURE_KEY,
          eventTypes: [...SQUARE_ORDER_EVENT_TYPES],
        },
      ],
    },
    netsuite: {},
  };
  const apps: SandboxApp[] = [];
  for (const name of SANDBOX_SYSTEMS) {
    const module = (await import(`../sandbox/${name}/index.ts`)) as { createSandbox: SandboxFactory };
    apps.push(await module.createSandbox({ seed, ...settings[name], ...options.overrides?.[name] }));
  }
  const router = createSandboxRouter(apps);
  const netsuite = apps.find((app) => app.name === 'netsuite') as unknown as {
    credentials: { accountId: string; clientId: string; certificateId: string; privateKeyPem?: string };
  };
  const { accountId, clientId, certificateId, privateKeyPem } = netsuite.credentials;
  return {
    names: apps.map((app) => app.name),
    netsuiteCredentials: JSON.stringify({ accountId, clientId, certificateId, privateKeyPem }),
    apps,
    handle: (req, res) => router.handle(req, res),
    close: async () => {
      await Promise.all(apps.map((app) => app.close()));
    },
  };
}
