import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSandboxRouter, type SandboxApp, type SandboxFactory } from '#sandbox/core/http.ts';
import { SQUARE_HANDLED_EVENT_TYPES } from '#shared/ingress/pos-webhook.ts';
import { localSecretDefault } from './secrets.ts';
import { applyFields, captureFields, type PersistableState } from './state/object-state.ts';
import { IncompatibleStateError, type LocalStateStore } from './state/store.ts';

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
  /** Starts the webhook deliveries a restored state had pending: call once the hub listens. */
  resume(): void;
  close(): Promise<void>;
}

/** The sandboxes' seed: `SANDBOX_SEED`, else the caller's, else 42. Part of the local state's identity. */
export function sandboxSeed(env: NodeJS.ProcessEnv, seed?: number): number {
  return Number(env.SANDBOX_SEED ?? seed ?? 42);
}

/** The state section of one sandbox in the local state. */
const sectionOf = (name: string) => `sandbox-${name}`;

/**
 * Puts back what an earlier run saved of a sandbox (into one built with the same seed) and registers its
 * section, so every flush and the final one on close keep it. Returns what must be resumed once the hub
 * listens (restored webhook dispatchers).
 */
function persistSandbox(app: SandboxApp, state: LocalStateStore): { resume(): void }[] {
  const fields = app.stateFields ?? [];
  const saved = state.restore<Record<string, unknown>>(sectionOf(app.name), 'v8');
  if (saved) applyFields(app, saved);
  state.register({
    name: sectionOf(app.name),
    encoding: 'v8',
    // A full sandbox snapshot takes up to ~80 ms (the Shopify store): every 5 s, and always on stop.
    minIntervalMs: 5000,
    snapshot: () => captureFields(app, fields),
  });
  if (!saved) return [];
  return fields
    .map((field) => (app as unknown as Record<string, unknown>)[field])
    .filter(
      (value): value is PersistableState & { resume(): void } =>
        typeof (value as { resume?: unknown } | undefined)?.resume === 'function',
    );
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
  /**
   * The local state (opened for this seed): each sandbox comes back as an earlier run left it and is saved
   * with the rest of the local cloud's state.
   */
  state?: LocalStateStore;
  /**
   * `pre-wired` (the default, for test harnesses): the sandboxes start subscribed to the hub's routes, as
   * if an operator had registered them. `by-the-hub`: they start with no subscription, and the hub
   * registers its own through the vendors' APIs (`npm run -s ops -- register-webhooks`, as `npm start` does).
   */
  webhooks?: 'pre-wired' | 'by-the-hub';
}): Promise<RunningSandboxes> {
  const seed = sandboxSeed(options.env, options.seed);
  if (options.state && options.state.identity.seed !== seed) {
    throw new IncompatibleStateError(
      `${options.state.dir} is opened for sandbox seed ${String(options.state.identity.seed)}, the sandboxes run with seed ${seed}; start with --fresh to wipe it`,
    );
  }
  const preWired = (options.webhooks ?? 'pre-wired') === 'pre-wired';
  const settings: Record<string, Record<string, unknown>> = {
    shopify: {
      shopDomain: 'omnihub-dev.myshopify.com',
      appSecret: options.env.OMNIHUB_SHOPIFY_SECRET ?? 'omnihub-local-shopify-secret',
      ...(preWired ? { webhookUrl: `${options.hubUrl}/webhooks/shopify` } : {}),
    },
    // Square signs with the local signature key and reads with the local token: the hub's local secrets.
    square: {
      accessToken: options.env.OMNIHUB_SQUARE_ACCESS_TOKEN ?? LOCAL_SQUARE_ACCESS_TOKEN,
      webhooks: preWired
        ? [
            {
              url: `${options.hubUrl}/webhooks/pos`,
              signatureKey: options.env.OMNIHUB_SQUARE_SIGNATURE_KEY ?? LOCAL_SQUARE_SIGNATURE_KEY,
              eventTypes: [...SQUARE_HANDLED_EVENT_TYPES],
            },
          ]
        : [],
    },
    netsuite: {},
  };
  const apps: SandboxApp[] = [];
  for (const name of SANDBOX_SYSTEMS) {
    const module = (await import(`../sandbox/${name}/index.ts`)) as { createSandbox: SandboxFactory };
    apps.push(await module.createSandbox({ seed, ...settings[name], ...options.overrides?.[name] }));
  }
  const state = options.state;
  const toResume = state ? apps.flatMap((app) => persistSandbox(app, state)) : [];
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
    resume: () => {
      for (const item of toResume.splice(0)) item.resume();
    },
    close: async () => {
      // Saved before closing: closing cancels the webhook deliveries still pending.
      for (const app of apps) state?.retire(sectionOf(app.name));
      await Promise.all(apps.map((app) => app.close()));
    },
  };
}
