import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { BUNDLE_ALIASES, esbuildOptions, MAX_BUNDLE_BYTES } from '#infra/constructs/bundling.ts';
import { functionEntry } from '#infra/constructs/hub-function.ts';

const functionsDir = fileURLToPath(new URL('../../functions/', import.meta.url));
/** Every `functions/<name>/handler.ts`: a function added later is bounded without an edit here. */
const FUNCTIONS = readdirSync(functionsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(functionEntry(entry.name)))
  .map((entry) => entry.name)
  .sort();

/** The bytes of `index.mjs` (its external source map apart) as `HubFunction` bundles it. */
async function bundleBytes(name: string): Promise<number> {
  const result = await build({
    ...esbuildOptions(functionEntry(name), `/bundle-size/${name}/index.mjs`),
    write: false,
    metafile: true,
  });
  // The semver stand-in has only `gte`, for the X-Ray SDK's one call: anything else importing semver
  // needs the real package (take it out of BUNDLE_ALIASES).
  const semverUsers = Object.entries(result.metafile?.inputs ?? {})
    .filter(([, input]) => input.imports.some((i) => i.path.endsWith('semver-gte.ts')))
    .map(([path]) => path);
  expect(
    semverUsers.every((path) => path.includes('aws-xray-sdk-core/')),
    semverUsers.join(', '),
  ).toBe(true);
  const code = result.outputFiles.find((file) => file.path.endsWith('index.mjs'));
  const map = result.outputFiles.find((file) => file.path.endsWith('index.mjs.map'));
  // The source map stays external (kept for --enable-source-maps), never inlined into the bundle.
  expect(map, `${name}: no external source map`).toBeDefined();
  return code?.contents.byteLength ?? Number.POSITIVE_INFINITY;
}

describe('function bundles', () => {
  it('finds the functions', () => {
    expect(FUNCTIONS).toContain('shopify-webhook');
    expect(FUNCTIONS).toContain('erp-order-sync');
  });

  it('aliases point at modules that exist', () => {
    for (const target of Object.values(BUNDLE_ALIASES)) expect(existsSync(target), target).toBe(true);
  });

  it.each(FUNCTIONS)(`%s is at most ${MAX_BUNDLE_BYTES / 1024} KB`, async (name) => {
    const bytes = await bundleBytes(name);
    expect(bytes, `${name}: ${(bytes / 1024).toFixed(1)} KB`).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
  });

  it('a bundle holds no credential chain beyond the environment and no semver', async () => {
    const result = await build({
      ...esbuildOptions(functionEntry('erp-order-sync'), '/bundle-size/probe/index.mjs'),
      write: false,
      metafile: true,
    });
    const inputs = Object.keys(result.metafile?.inputs ?? {});
    expect(
      inputs.filter((path) => /credential-provider-(sso|ini|node)|nested-clients|\/semver\//.test(path)),
    ).toEqual([]);
  });
});
