import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { esbuildOptions } from '#infra/constructs/bundling.ts';
import { BOPIS_ERRORS } from '#state-machines/bopis/bopis-state-machine.ts';

/**
 * The BOPIS task errors' names as the deployed bundle reports them (Lambda's `errorType`, which the
 * state machine's Retry and Catch match): built with the hub's own esbuild options (minified), so a name
 * taken from the class (mangled there) fails here and not only on AWS.
 */
const dir = mkdtempSync(join(tmpdir(), 'omnihub-bopis-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('BOPIS task errors in the minified bundle', () => {
  it('keep the names the state machine retries and catches', async () => {
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import { asTaskError, BopisPermanentError, BopisTransientError } from ${JSON.stringify(
        join(process.cwd(), 'shared/flows/bopis/tasks.ts'),
      )};
export const names = {
  transient: new BopisTransientError('x').name,
  permanent: new BopisPermanentError('x').name,
  unknown: asTaskError(new Error('Shopify answered 503')).name,
};
`,
    );
    const outfile = join(dir, 'out.mjs');
    await build({ ...esbuildOptions(entry, outfile), sourcemap: false });
    const { names } = (await import(pathToFileURL(outfile).href)) as { names: Record<string, string> };
    expect(names).toEqual({
      transient: BOPIS_ERRORS.transient,
      permanent: BOPIS_ERRORS.permanent,
      unknown: BOPIS_ERRORS.transient,
    });
  }, 60_000);
});
