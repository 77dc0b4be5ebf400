import type { BuildOptions } from 'esbuild';

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

/** Largest bundle (`index.mjs`, source map apart) any function may have: checked by test/infra/bundles.test.ts. */
export const MAX_BUNDLE_BYTES = 500 * 1024;

/**
 * The esbuild options `NodejsFunction` derives from `HUB_BUNDLING` (aws-cdk-lib/aws-lambda-nodejs
 * `Bundling`: `--bundle --target --platform=node --format=esm --minify --sourcemap
 * --sources-content=false --main-fields --banner:js`, output `index.mjs`), for building a bundle without a
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
    logLevel: 'silent',
  };
}
