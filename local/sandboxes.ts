import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSandboxRouter, type SandboxApp, type SandboxFactory } from '#sandbox/core/http.ts';

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
 * Starts the sandbox Shopify, POS and ERP systems for the local cloud. Shopify delivers its webhooks
 * to the hub's route on `hubUrl`, signed with the same local secret the hub verifies with.
 */
export async function startSandboxes(options: {
  hubUrl: string;
  env: NodeJS.ProcessEnv;
  seed?: number;
}): Promise<RunningSandboxes> {
  const seed = Number(options.env.SANDBOX_SEED ?? options.seed ?? 42);
  const settings: Record<string, Record<string, unknown>> = {
    shopify: {
      shopDomain: 'omnihub-dev.myshopify.com',
      appSecret: options.env.OMNIHUB_SHOPIFY_SECRET ?? 'omnihub-local-shopify-secret',
      webhookUrl: `${options.hubUrl}/webhooks/shopify`,
    },
    // Square webhooks are subscribed when the hub has a POS webhook route (the POS ingress issue).
    square: {},
    netsuite: {},
  };
  const apps: SandboxApp[] = [];
  for (const name of SANDBOX_SYSTEMS) {
    const module = (await import(`../sandbox/${name}/index.ts`)) as { createSandbox: SandboxFactory };
    apps.push(await module.createSandbox({ seed, ...settings[name] }));
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
