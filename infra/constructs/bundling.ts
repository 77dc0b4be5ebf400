import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/**
 * Packages replaced in the bundles by a smaller module that does what a Lambda function needs of them
 * (esbuild `alias`): see each module's comment for why it is equivalent there.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': fileURLToPath(
    new URL('../../shared/runtime/bundle/env-credentials.ts', import.meta.url),
  ),
  semver: fileURLToPath(new URL('../../shared/runtime/bundle/semver-gte.ts', import.meta.url)),
};

/**
 * How every hub function is bundled: one source of truth for the CDK construct (`HubFunction`), the
 * bundle-size regression test and `npm run bench -- coldstart`, so what is measured is what deploys.
 */
export const HUB_BUNDLING = {
  target: 'node24',
  minify: true,
  /** External `index.mjs.map` (not inline), read by `--enable-source-maps` only when a stack is printed. */
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  // Bundle the AWS SDK too (nothing external): the version we test is the version that runs, on AWS and
  // locally, and a bundle holding only the commands a function uses initialises faster than the
  // runtime's full SDK clients would (measured: docs/cost.md "Cold starts").
  externalModules: [] as string[],
  // Bundled libraries may still call require(); give ESM output a real one.
  banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
} as const;

/** Issue #17's aim for every bundle (`npm run bench -- coldstart` flags a bundle over it). */
export const TARGET_BUNDLE_BYTES = 500 * 1024;

/**
 * Largest bundle (`index.mjs`, source map apart) any function may have: checked by
 * test/infra/bundles.test.ts. Issue #17 aims at 500 KB; the largest bundle (erp-order-sync: AWS SDK v3
 * with three clients, Powertools Tracer with the X-Ray SDK, zod, Powertools idempotency) is 595 KB, so
 * this limit is that plus a little room: it catches a regression (a new aggregated client, a second
 * copy of a library), and it comes down with each cut (docs/cost.md "Cold starts").
 */
export const MAX_BUNDLE_BYTES = 620 * 1024;

/**
 * The esbuild options `NodejsFunction` derives from `HUB_BUNDLING` (aws-cdk-lib/aws-lambda-nodejs
 * `Bundling`: `--bundle --target --platform=node --format=esm --minify --sourcemap
 * --sources-content=false --main-fields --banner:js --alias`, output `index.mjs`), for building a bundle without a
 * synth.
 */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: HUB_BUNDLING.target,
    minify: HUB_BUNDLING.minify,
    sourcemap: HUB_BUNDLING.sourceMap,
    sourcesContent: HUB_BUNDLING.sourcesContent,
    mainFields: [...HUB_BUNDLING.mainFields],
    external: [...HUB_BUNDLING.externalModules],
    banner: { js: HUB_BUNDLING.banner },
    alias: { ...BUNDLE_ALIASES },
    logLevel: 'silent',
  };
}
