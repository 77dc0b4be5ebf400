/**
 * Runs one sandbox alone: `npm run sandbox -- netsuite|square|shopify`.
 * Port from `PORT` (default 4010), seed from `SANDBOX_SEED` (default 42),
 * host from `HOST` (default 127.0.0.1). The app answers both at
 * `/_sandbox/<name>/…` (as mounted in the local cloud) and at its bare vendor
 * paths. Convention: `sandbox/<name>/index.ts` exports `createSandbox`.
 */
import { type SandboxFactory, serveSandboxes } from './core/http.ts';

const SYSTEMS = ['netsuite', 'square', 'shopify'] as const;

const name = process.argv[2] ?? '';
if (!(SYSTEMS as readonly string[]).includes(name)) {
  console.error(`usage: npm run sandbox -- ${SYSTEMS.join('|')}`);
  process.exit(2);
}
const mod = (await import(`./${name}/index.ts`)) as { createSandbox?: SandboxFactory };
if (typeof mod.createSandbox !== 'function') {
  console.error(`sandbox/${name}/index.ts does not export createSandbox`);
  process.exit(1);
}
const port = Number(process.env.PORT ?? 4010);
const seed = Number(process.env.SANDBOX_SEED ?? 42);
const app = await mod.createSandbox({ seed });
const server = await serveSandboxes([app], { port, host: process.env.HOST ?? '127.0.0.1' });
console.log(
  `${name} sandbox: ${server.urlOf(name)} (also ${server.origin}/) — state: ${server.urlOf(name)}/_control/state`,
);
const stop = (): void => {
  server.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
