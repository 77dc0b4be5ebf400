import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, resolveEnvironment } from '#infra/config/environments.ts';
import { withPosOverrides } from '#infra/config/pos.ts';

const example = (env: string) => `docs/examples/operator-config.${env}.json`;

function configFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'omnihub-config-')), 'config.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('per-environment config', () => {
  it.each(['staging', 'prod'])('refuses %s without the operator config, naming what is missing', (env) => {
    expect(() => resolveEnvironment(env)).toThrow(/erp\.accountId.*erp\.mapping.*-c config=<file>/s);
    expect(() => resolveEnvironment(env)).toThrow(/shops/);
  });

  it.each(['staging', 'prod'])('takes shops, ERP account and booking ids from the config for %s', (env) => {
    const config = resolveEnvironment(env, { config: example(env) });
    expect(config.erp.accountId).toBe('0000000_EXAMPLE');
    expect(config.erp.mapping.tax).toEqual({ typeId: '900105', codeId: '900106' });
    expect(config.shops.map((shop) => shop.domain)).toContain(`example-retailer-${env}.myshopify.com`);
    expect(config.pos?.notificationUrl).toMatch(/^https:\/\/hooks\.example\.com\//);
  });

  it('never lets a sandbox id reach a deployed environment', () => {
    for (const env of ['staging', 'prod']) {
      const config = resolveEnvironment(env, { config: example(env) });
      expect(config.erp.accountId).not.toBe(ENVIRONMENTS.dev.erp.accountId);
      expect(config.erp.mapping).not.toEqual(ENVIRONMENTS.dev.erp.mapping);
    }
  });

  it('keeps the sandbox values for dev', () => {
    expect(resolveEnvironment('dev').erp.accountId).toBe('TSTDRV1234567');
  });

  it('refuses a config written for another environment', () => {
    expect(() => resolveEnvironment('prod', { config: example('staging') })).toThrow(
      /for environment "staging", not "prod"/,
    );
  });

  it('lists every problem of an invalid config by path', () => {
    const path = configFile({
      environment: 'prod',
      shops: [{ domain: 'shop.example.com', currency: 'USD' }],
      erp: {
        accountId: '123',
        concurrencyLimit: 1,
        baseUrl: 'http://insecure.example.com',
        mapping: { customers: { online: '1' }, items: {}, currencies: {} },
      },
      extra: true,
    });
    let message = '';
    try {
      resolveEnvironment('prod', { config: path });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const problem of [
      'shops.0.domain',
      'erp.concurrencyLimit',
      'erp.baseUrl',
      'erp.mapping.customers.pos',
      'erp.mapping.items.giftCard',
      'erp.mapping.tax',
      '(root): Unrecognized key: "extra"',
    ]) {
      expect(message).toContain(problem);
    }
  });

  it('names an unreadable or malformed file', () => {
    expect(() => resolveEnvironment('prod', { config: '/nonexistent/omnihub.json' })).toThrow(
      /cannot read it/,
    );
    expect(() => resolveEnvironment('prod', { config: configFile('{ not json') })).toThrow(/not JSON/);
  });
});

describe('vendor URLs outside dev', () => {
  it('must be https in staging and prod, may be http (the local sandboxes) in dev', () => {
    const prod = { config: example('prod') };
    expect(() => resolveEnvironment('prod', { ...prod, netsuiteBaseUrl: 'http://erp.example.com' })).toThrow(
      /https URL/,
    );
    expect(
      resolveEnvironment('prod', { ...prod, netsuiteBaseUrl: 'https://erp.example.com' }).erp.baseUrl,
    ).toBe('https://erp.example.com');
    expect(() =>
      withPosOverrides(resolveEnvironment('prod', prod), 'http://pos.example.com', undefined),
    ).toThrow(/-c squareBaseUrl must be an https URL/);
    expect(resolveEnvironment('dev', { netsuiteBaseUrl: 'http://127.0.0.1:3000/x' }).erp.baseUrl).toBe(
      'http://127.0.0.1:3000/x',
    );
  });

  it('a deployed environment names its Square merchants and the URL Square signs', () => {
    const path = configFile({
      environment: 'prod',
      shops: [{ domain: 'shop.myshopify.com', currency: 'USD' }],
      erp: JSON.parse(readFileSync(example('prod'), 'utf8')).erp,
    });
    expect(() => resolveEnvironment('prod', { config: path })).toThrow(/pos/);
  });
});
