import { describe, expect, it } from 'vitest';
import { gidToId, parseShopifyJson } from '#shared/connectors/shopify/json.ts';
import { signShopifyBody, verifyShopifyHmac } from '#shared/connectors/shopify/webhook-signature.ts';

/** Vectors from Shopify's public libraries (see test/fixtures/shopify/webhooks/SOURCES.md). */
const VECTORS = [
  {
    library: 'shopify-app-js',
    secret: 'test_secret_key',
    body: '{"foo": "bar"}',
    hmac: 'B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=',
  },
  {
    library: 'shopify-api-php',
    secret: 'steffi',
    body: '{"foo":"bar"}',
    hmac: '/Redz4YXHLnSmmSN8grr5/Jl/Ua3d7yX3iWbjb8R8wo=',
  },
  {
    library: 'shopify_app',
    secret: 'secret',
    body: 'foo=anything',
    hmac: 'yCGX/RrK4fcuNtr3ztk5tQGsOBjcAzHpGLdMUrbV8yI=',
  },
  {
    library: 'shopify_app (old_secret)',
    secret: 'old_secret',
    body: 'foo=anything',
    hmac: 'XqRcjrSv57VACn6apEO9znyu/wkN1VC7QxdSPwK3Hzs=',
  },
  {
    library: 'shopify-api-ruby',
    secret: 'API_SECRET_KEY',
    body: '{}',
    hmac: '+ihUB5l+D7QrohDEi/6NcBcJRyKssyWqos13LmnsBbs=',
  },
];

describe('Shopify webhook signature', () => {
  describe('verifyShopifyHmac', () => {
    it.each(VECTORS)('accepts the $library vector', ({ secret, body, hmac }) => {
      expect(verifyShopifyHmac(Buffer.from(body), hmac, [secret])).toBe(0);
    });

    it.each(VECTORS)('rejects the $library vector under another secret', ({ body, hmac }) => {
      expect(verifyShopifyHmac(Buffer.from(body), hmac, ['not-the-secret'])).toBe(-1);
    });

    it('rejects a body changed by one byte', () => {
      expect(
        verifyShopifyHmac(Buffer.from('{"foo":"baz"}'), '/Redz4YXHLnSmmSN8grr5/Jl/Ua3d7yX3iWbjb8R8wo=', [
          'steffi',
        ]),
      ).toBe(-1);
    });

    it('accepts the previous secret during a rotation and says which one matched', () => {
      const body = Buffer.from('foo=anything');
      const signedWithOld = 'XqRcjrSv57VACn6apEO9znyu/wkN1VC7QxdSPwK3Hzs=';
      const signedWithNew = 'yCGX/RrK4fcuNtr3ztk5tQGsOBjcAzHpGLdMUrbV8yI=';
      expect(verifyShopifyHmac(body, signedWithNew, ['secret', 'old_secret'])).toBe(0);
      expect(verifyShopifyHmac(body, signedWithOld, ['secret', 'old_secret'])).toBe(1);
      expect(verifyShopifyHmac(body, signedWithOld, ['secret'])).toBe(-1);
    });

    it('never matches a missing, empty, truncated or non-base64 header', () => {
      const body = Buffer.from('{}');
      expect(verifyShopifyHmac(body, undefined, ['API_SECRET_KEY'])).toBe(-1);
      expect(verifyShopifyHmac(body, '', ['API_SECRET_KEY'])).toBe(-1);
      expect(verifyShopifyHmac(body, '+ihUB5l+D7QrohDEi/6NcBcJRyKs', ['API_SECRET_KEY'])).toBe(-1);
      expect(verifyShopifyHmac(body, '!!!!', ['API_SECRET_KEY'])).toBe(-1);
    });

    it('tolerates surrounding whitespace (Ruby base64 adds a newline)', () => {
      expect(
        verifyShopifyHmac(Buffer.from('{}'), '+ihUB5l+D7QrohDEi/6NcBcJRyKssyWqos13LmnsBbs=\n', [
          'API_SECRET_KEY',
        ]),
      ).toBe(0);
    });

    it('skips empty secrets instead of accepting signatures made with an empty key', () => {
      const body = Buffer.from('{}');
      expect(verifyShopifyHmac(body, signShopifyBody(body, ''), [''])).toBe(-1);
    });
  });

  describe('signShopifyBody', () => {
    it.each(VECTORS)('reproduces the $library vector', ({ secret, body, hmac }) => {
      expect(signShopifyBody(body, secret)).toBe(hmac);
    });
  });
});

describe('Shopify JSON', () => {
  it('keeps ids beyond 2^53 exact by reading their digits', () => {
    const parsed = parseShopifyJson(
      '{"id":820982911946154508,"order_id":12,"quantity":3,"big":9007199254740993}',
    ) as Record<string, unknown>;
    expect(parsed.id).toBe('820982911946154508');
    expect(parsed.order_id).toBe('12');
    expect(parsed.quantity).toBe(3);
    expect(parsed.big).toBe('9007199254740993');
  });

  it('reads the id from a GID', () => {
    expect(gidToId('gid://shopify/Order/820982911946154508')).toBe('820982911946154508');
    expect(gidToId('gid://shopify/InventoryLevel/24826418?inventory_item_id=1')).toBe('24826418');
    expect(gidToId('gid://shopify/Order/abc')).toBeUndefined();
    expect(gidToId(null)).toBeUndefined();
  });
});
