import { describe, expect, it } from 'vitest';
import { squareSignature } from '#sandbox/square/signature.ts';
import { signSquareBody, verifySquareSignature } from '#shared/connectors/square/webhook-signature.ts';
import { fixtureText } from '#test/support/fixtures.ts';

/** Vectors from Square's SDK tests (test/fixtures/square/webhooks/SOURCES.md). */
const SDK_KEY = 'Ibxx_5AKakO-3qeNVR61Dw';
const SDK_URL = 'https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9';
const SDK_BODY =
  '{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}';
const SDK_SIGNATURE = 'GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=';

const verify = (body: string, url: string, header: string | undefined, keys: string[]) =>
  verifySquareSignature(Buffer.from(body), url, header, keys);

describe('Square webhook signature', () => {
  describe("Square's SDK test vectors", () => {
    it.each([
      [SDK_KEY, SDK_URL, SDK_BODY, SDK_SIGNATURE],
      [
        'signature-key',
        'https://webhook.site/webhooks',
        '{"data":{"type":"webhooks","id":"fake_id"}}',
        'W3FlCNk5IA3ZQ2LHTWoajvzfaDu/OwY2tNHIHC3IUOA=',
      ],
      [
        'signature-key',
        'https://webhook.site/webhooks',
        '{"data":{"type":"webhooks","id":">id<"}}',
        'Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=',
      ],
    ])('verifies key %s on %s', (key, url, body, signature) => {
      expect(verify(body, url, signature, [key])).toBe(0);
      expect(signSquareBody(body, url, key)).toBe(signature);
    });

    it('refuses the URL with one character dropped', () => {
      expect(
        verify(SDK_BODY, 'https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9', SDK_SIGNATURE, [
          SDK_KEY,
        ]),
      ).toBe(-1);
    });

    it('refuses another key', () => {
      expect(verify(SDK_BODY, SDK_URL, SDK_SIGNATURE, ['MCmhFRxGX82xMwg5FsaoQA'])).toBe(-1);
    });

    it('refuses the same body pretty-printed or with a changed field', () => {
      const pretty = JSON.stringify(JSON.parse(SDK_BODY), null, 2);
      expect(verify(pretty, SDK_URL, SDK_SIGNATURE, [SDK_KEY])).toBe(-1);
      const tampered = SDK_BODY.replace('2022-07-13', '2022-06-13');
      expect(verify(tampered, SDK_URL, SDK_SIGNATURE, [SDK_KEY])).toBe(-1);
    });
  });

  describe('key rotation and malformed headers', () => {
    it('answers the index of the key that matched (previous key during a rotation)', () => {
      expect(verify(SDK_BODY, SDK_URL, SDK_SIGNATURE, ['new-key', SDK_KEY])).toBe(1);
      expect(verify(SDK_BODY, SDK_URL, SDK_SIGNATURE, ['', SDK_KEY])).toBe(1);
    });

    it('never matches a missing, empty, truncated or non-base64 header, or an empty URL', () => {
      expect(verify(SDK_BODY, SDK_URL, undefined, [SDK_KEY])).toBe(-1);
      expect(verify(SDK_BODY, SDK_URL, '', [SDK_KEY])).toBe(-1);
      expect(verify(SDK_BODY, SDK_URL, SDK_SIGNATURE.slice(0, 20), [SDK_KEY])).toBe(-1);
      expect(verify(SDK_BODY, SDK_URL, '!!!!', [SDK_KEY])).toBe(-1);
      expect(verify(SDK_BODY, '', SDK_SIGNATURE, [SDK_KEY])).toBe(-1);
      expect(verify(SDK_BODY, SDK_URL, SDK_SIGNATURE, [])).toBe(-1);
    });
  });

  it('agrees with the sandbox signer on a documented webhook body, for the local notification URL', () => {
    const body = JSON.stringify(JSON.parse(fixtureText('square/webhooks/order.updated.json')));
    const url = 'http://127.0.0.1:3000/webhooks/pos';
    const signature = squareSignature('omnihub-local-square-signature-key', url, body);
    expect(verify(body, url, signature, ['omnihub-local-square-signature-key'])).toBe(0);
    expect(
      verify(body, 'https://127.0.0.1:3000/webhooks/pos', signature, ['omnihub-local-square-signature-key']),
    ).toBe(-1);
  });
});
