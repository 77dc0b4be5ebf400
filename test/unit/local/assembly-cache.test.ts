import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedAssembly } from '#local/harness/assembly-cache.ts';

/** A stand-in synth: a template holding the URL it is given, and one asset directory. */
function fakeSynth(calls: string[]) {
  return (outdir: string, placeholderUrl: string) => {
    calls.push(placeholderUrl);
    mkdirSync(join(outdir, 'asset.abc'), { recursive: true });
    writeFileSync(join(outdir, 'asset.abc', 'index.mjs'), 'export const handler = () => 1;');
    writeFileSync(
      join(outdir, 'Stack.template.json'),
      JSON.stringify({
        Resources: { Fn: { Properties: { Environment: { URL: `${placeholderUrl}/_sandbox/erp` } } } },
      }),
    );
    return { stackName: 'Stack' };
  };
}

const template = (dir: string) => readFileSync(join(dir, 'Stack.template.json'), 'utf8');

describe('assembly cache (one synth per stack shape for the e2e files)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'omnihub-cache-test-'));
    process.env.OMNIHUB_ASSEMBLY_CACHE = root;
  });
  afterEach(() => {
    delete process.env.OMNIHUB_ASSEMBLY_CACHE;
    rmSync(root, { recursive: true, force: true });
  });

  it('synthesizes once per key; each caller gets its own template with its port and the cached assets', () => {
    const calls: string[] = [];
    const a = cachedAssembly({ key: { test: 'same' }, port: 41000, synth: fakeSynth(calls) });
    const b = cachedAssembly({ key: { test: 'same' }, port: 42000, synth: fakeSynth(calls) });
    expect(calls).toHaveLength(1);
    expect(template(a.dir)).toContain('http://127.0.0.1:41000/_sandbox/erp');
    expect(template(b.dir)).toContain('http://127.0.0.1:42000/_sandbox/erp');
    expect(template(a.dir)).not.toContain('65535');
    expect(a.dir).not.toBe(b.dir);
    // The bundles are shared, not copied.
    expect(realpathSync(join(a.dir, 'asset.abc'))).toBe(realpathSync(join(b.dir, 'asset.abc')));
    expect(readFileSync(join(b.dir, 'asset.abc', 'index.mjs'), 'utf8')).toContain('handler');

    // A caller's edits (the IAM e2e takes grants out) and its removal leave the cache as it was.
    writeFileSync(join(a.dir, 'Stack.template.json'), '{}');
    rmSync(a.dir, { recursive: true, force: true });
    const c = cachedAssembly({ key: { test: 'same' }, port: 43000, synth: fakeSynth(calls) });
    expect(calls).toHaveLength(1);
    expect(template(c.dir)).toContain('http://127.0.0.1:43000/_sandbox/erp');
    expect(readFileSync(join(c.dir, 'asset.abc', 'index.mjs'), 'utf8')).toContain('handler');
  });

  it('synthesizes again for another key', () => {
    const calls: string[] = [];
    cachedAssembly({ key: { erpConcurrencyLimit: 5 }, port: 41000, synth: fakeSynth(calls) });
    cachedAssembly({ key: { erpConcurrencyLimit: 15 }, port: 41000, synth: fakeSynth(calls) });
    expect(calls).toHaveLength(2);
  });

  it('refuses a synth that did not put the placeholder where the port belongs', () => {
    expect(() =>
      cachedAssembly({
        key: { test: 'no-placeholder' },
        port: 41000,
        synth: (outdir) => fakeSynth([])(outdir, 'http://127.0.0.1:9'),
      }),
    ).toThrow(/does not use http:\/\/127\.0\.0\.1:65535/);
  });
});
