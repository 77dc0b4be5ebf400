import { describe, expect, it } from 'vitest';
import {
  RETURN_CANCEL,
  RETURN_CREATE,
  RETURN_DISPOSITIONS_QUERY,
  RETURN_PROCESS,
  RETURN_REFUNDS_QUERY,
  RETURNABLE_QUERY,
} from '#shared/flows/returns/shopify-return.ts';
import { assertShopifyDocument } from '#test/sandbox/shopify-helpers.ts';

/** The returns workflow's Shopify documents are valid against Shopify's schema at the pinned version. */
describe('omnichannel-return Shopify documents', () => {
  it.each([
    ['order query', RETURNABLE_QUERY],
    ['returnCreate', RETURN_CREATE],
    ['returnProcess', RETURN_PROCESS('shopify-acme.myshopify.com-1')],
    ['returnCancel', RETURN_CANCEL],
    ['return refunds', RETURN_REFUNDS_QUERY],
    ['return dispositions', RETURN_DISPOSITIONS_QUERY],
  ])('%s', (_name, document) => {
    expect(() => assertShopifyDocument(document)).not.toThrow();
  });
});
