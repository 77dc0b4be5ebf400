import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import {
  cancelShopifyReturn,
  readShopifyDispositions,
  refundInShopify,
} from '#shared/flows/returns/shopify-return.ts';
import { ReturnStateSchema, ReturnStepFailed } from '#shared/flows/returns/steps.ts';
import { shopifyGraphql } from '#shared/inventory/shopify-publisher.ts';
import { jsonVariable, readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, tracer } from '#shared/runtime/observability.ts';
import { secretsManagerAccessToken } from '#shared/runtime/secrets.ts';

const env = readEnv(
  z.object({
    SHOPIFY_SHOPS: jsonVariable(
      z.array(z.object({ domain: z.string().min(1), baseUrl: z.url(), tokenSecretId: z.string().min(1) })),
    ),
  }),
);
const shops = new Map(
  env.SHOPIFY_SHOPS.map((shop) => [
    shop.domain,
    { ...shop, token: secretsManagerAccessToken(shop.tokenSecretId) },
  ]),
);

/** The shop's Admin API with its current token (read from Secrets Manager, cached). */
async function graphqlOf(domain: string) {
  const shop = shops.get(domain);
  if (!shop) throw new ReturnStepFailed('SHOPIFY_SHOP_UNKNOWN', `no configured shop ${domain}`);
  return shopifyGraphql({ baseUrl: shop.baseUrl, accessToken: await shop.token.token() });
}

const InputSchema = z.object({
  action: z.enum(['refund', 'cancel', 'dispositions']),
  state: ReturnStateSchema,
});

/**
 * Tasks `ShopifyReturnAndRefund`, its compensation `CancelShopifyReturn`, and `ReadShopifyDispositions`
 * (shared/flows/returns).
 */
export const handler = middy<unknown, unknown, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async (event) => {
    const { action, state } = InputSchema.parse(event);
    logger.appendKeys({ returnId: state.request.returnId, action });
    const graphql = await graphqlOf(state.request.order.account);
    if (action === 'dispositions') return readShopifyDispositions(state, graphql);
    return action === 'refund' ? refundInShopify(state, graphql) : cancelShopifyReturn(state, graphql);
  });
