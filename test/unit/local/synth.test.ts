import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assertLoopbackOnly } from '#local/cloud.ts';
import { synthesize } from '#local/synth.ts';
import { lambdaResource, writeAssembly } from '#test/support/local-template.ts';

const projectDir = fileURLToPath(new URL('../../../', import.meta.url));

describe('synthesize (cdk synth for the local cloud)', () => {
  it('passes its context to the app (the ERP points at the local sandbox) and caches an unchanged synth', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'omnihub-synth-'));
    const context = { netsuiteBaseUrl: 'http://127.0.0.1:4999/_sandbox/netsuite' };
    const first = await synthesize({ projectDir, outDir, environment: 'dev', context });
    expect(first.cached).toBe(false);
    const template = JSON.parse(readFileSync(join(outDir, 'Omnihub-dev.template.json'), 'utf8')) as {
      Resources: Record<
        string,
        { Type: string; Properties: { Environment?: { Variables?: Record<string, unknown> } } }
      >;
    };
    const urls = Object.values(template.Resources).flatMap((resource) =>
      resource.Type === 'AWS::Lambda::Function' &&
      resource.Properties.Environment?.Variables?.NETSUITE_BASE_URL
        ? [resource.Properties.Environment.Variables.NETSUITE_BASE_URL]
        : [],
    );
    // Every function that calls the ERP (order capture, the change-feed pollers, returns, BOPIS, finance,
    // the reconciler…) points at the local sandbox.
    expect(urls.length).toBeGreaterThanOrEqual(3);
    expect(new Set(urls)).toEqual(new Set(['http://127.0.0.1:4999/_sandbox/netsuite']));
    expect((await synthesize({ projectDir, outDir, environment: 'dev', context })).cached).toBe(true);
    expect(
      (
        await synthesize({
          projectDir,
          outDir,
          environment: 'dev',
          context: { netsuiteBaseUrl: 'http://127.0.0.1:5000' },
        })
      ).cached,
    ).toBe(false);
    // Two real synths: 25 s each on an idle 2-core machine, 55 s with the e2e files beside them.
  }, 300_000);
});

describe('assertLoopbackOnly', () => {
  const withUrl = (value: string) =>
    writeAssembly({
      Fn: lambdaResource('a', { Environment: { Variables: { ERP_URL: value, OTHER: 'plain text' } } }),
    }).load();

  it('accepts functions configured with loopback URLs only', () => {
    for (const url of [
      'http://127.0.0.1:3000/_sandbox/netsuite',
      'http://localhost:9',
      'http://[::1]:8080/x',
      'http://127.0.0.9',
    ]) {
      expect(() => assertLoopbackOnly(withUrl(url))).not.toThrow();
    }
  });

  it('refuses a function that would reach outside this machine, naming the variable', () => {
    expect(() => assertLoopbackOnly(withUrl('https://tstdrv1234567.suitetalk.api.netsuite.com'))).toThrow(
      /ERP_URL points outside this machine/,
    );
    expect(() => assertLoopbackOnly(withUrl('http://10.0.0.5:80'))).toThrow(/10\.0\.0\.5/);
    expect(() => assertLoopbackOnly(withUrl('{"base":"https://example.com/api"}'))).toThrow(/example\.com/);
  });
});
