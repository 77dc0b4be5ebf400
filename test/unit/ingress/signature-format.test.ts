import { describe, expect, it } from 'vitest';
import { hmacSha256FromBase64 } from '#shared/connectors/hmac.ts';
import { signShopifyBody, verifyShopifyHmac } from '#shared/connectors/shopify/webhook-signature.ts';
import { signSquareBody, verifySquareSignature } from '#shared/connectors/square/webhook-signature.ts';

const body = Buffer.from('{"id":1}');
const secret = 'app-secret';
const url = 'https://hooks.example.com/webhooks/pos';
const shopify = signShopifyBody(body, secret);
const square = signSquareBody(body, url, secret);

/** What a replaying or probing sender might put in the signature header instead of one value. */
function variants(signature: string): Record<string, string> {
  return {
    base64url: signature.replace(/\+/g, '-').replace(/\//g, '_'),
    unpadded: signature.replace(/=+$/, ''),
    'comma-joined duplicate header': `${signature}, ${signature}`,
    'trailing garbage': `${signature}AAAA`,
    'junk inside': `${signature.slice(0, 10)}!${signature.slice(11)}`,
    'inner whitespace': `${signature.slice(0, 20)} ${signature.slice(20)}`,
    'hex digest': Buffer.from(signature, 'base64').toString('hex'),
  };
}

describe('webhook signature format', () => {
  it('accepts exactly one standard, padded base64 HMAC-SHA256', () => {
    expect(hmacSha256FromBase64(shopify)).toHaveLength(32);
    expect(verifyShopifyHmac(body, shopify, [secret])).toBe(0);
    expect(verifySquareSignature(body, url, square, [secret])).toBe(0);
  });

  it.each(Object.entries(variants(shopify)))('refuses a Shopify signature sent %s', (_name, header) => {
    expect(verifyShopifyHmac(body, header, [secret])).toBe(-1);
  });

  it.each(Object.entries(variants(square)))('refuses a Square signature sent %s', (_name, header) => {
    expect(verifySquareSignature(body, url, header, [secret])).toBe(-1);
  });
});
