import * as z from 'zod';
import { CurrencyCodeSchema } from '../events/money.ts';

/** One shop the hub accepts webhooks from. */
export const ShopConfigSchema = z.object({
  domain: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, 'a *.myshopify.com domain')
    .transform((domain) => domain.toLowerCase()),
  currency: CurrencyCodeSchema,
});
export type ShopConfig = z.infer<typeof ShopConfigSchema>;

/**
 * `SHOPIFY_SHOPS`: a JSON array of shops, e.g. `[{"domain":"acme.myshopify.com","currency":"USD"}]`,
 * parsed into a map by domain. Only these shops are accepted, even with a valid signature.
 */
export const ShopsSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'SHOPIFY_SHOPS is not JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.array(ShopConfigSchema).min(1))
  .transform((shops) => new Map(shops.map((shop) => [shop.domain, { currency: shop.currency }])));
