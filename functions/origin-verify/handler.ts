import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayRequestAuthorizerEventV2, Context } from 'aws-lambda';
import * as z from 'zod';
import { ORIGIN_VERIFY_HEADER, originVerified } from '#shared/ingress/origin-verify.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger } from '#shared/runtime/observability.ts';
import { secretsManagerWebhookSecrets } from '#shared/runtime/secrets.ts';

const env = readEnv(z.object({ ORIGIN_VERIFY_SECRET_ID: z.string().min(1) }));
const secrets = secretsManagerWebhookSecrets(env.ORIGIN_VERIFY_SECRET_ID);

/**
 * HTTP API Lambda authorizer (payload 2.0, simple responses) of the webhook routes behind CloudFront:
 * authorized when the origin-verify header is CloudFront's secret. API Gateway refuses a request without
 * the header itself (401, no invocation) and caches each answer per header value.
 */
export const handler = middy<APIGatewayRequestAuthorizerEventV2, { isAuthorized: boolean }, Error, Context>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .handler(async (event) => {
    const presented = event.headers?.[ORIGIN_VERIFY_HEADER];
    if (originVerified(presented, await secrets.candidates())) return { isAuthorized: true };
    // Re-read once in a while: the secret may just have been rotated.
    const refreshed = await secrets.refresh();
    const isAuthorized = refreshed !== undefined && originVerified(presented, refreshed);
    if (!isAuthorized) logger.warn('request without CloudFront origin secret', { routeKey: event.routeKey });
    return { isAuthorized };
  });
