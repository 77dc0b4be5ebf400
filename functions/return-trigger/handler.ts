import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { EventBridgePublisher } from '#shared/bus/publisher.ts';
import { startFromTrigger } from '#shared/flows/returns/start.ts';
import { shopifyGraphql } from '#shared/inventory/shopify-publisher.ts';
import { jsonVariable, readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';
import { secretsManagerAccessToken } from '#shared/runtime/secrets.ts';

const name = z.string().min(1);
const env = readEnv(
  z.object({
    EVENT_BUS_NAME: name,
    STATE_MACHINE_ARN: name,
    SHOPIFY_SHOPS: jsonVariable(z.array(z.object({ domain: name, baseUrl: z.url(), tokenSecretId: name }))),
  }),
);
const shops = new Map(
  env.SHOPIFY_SHOPS.map((shop) => [
    shop.domain,
    { ...shop, token: secretsManagerAccessToken(shop.tokenSecretId) },
  ]),
);
const sfn = tracer.captureAWSv3Client(new SFNClient({}));
const deps = {
  publisher: new EventBridgePublisher(
    tracer.captureAWSv3Client(new EventBridgeClient({})),
    env.EVENT_BUS_NAME,
  ),
  startExecution: async (executionName: string, input: string) => {
    try {
      await sfn.send(
        new StartExecutionCommand({ stateMachineArn: env.STATE_MACHINE_ARN, name: executionName, input }),
      );
      return true;
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return false;
      throw error;
    }
  },
  // A store return names its online order by number: looked up in the configured shops.
  shopify: {
    shops: [...shops.keys()],
    graphqlOf: async (domain: string) => {
      const shop = shops.get(domain);
      if (!shop) throw new Error(`no configured shop ${domain}`);
      return shopifyGraphql({ baseUrl: shop.baseUrl, accessToken: await shop.token.token() });
    },
  },
  telemetry: powertoolsTelemetry,
  log: logger,
};
const processor = new BatchProcessor(EventType.SQS);

const record = (sqsRecord: SQSRecord) => startFromTrigger(JSON.parse(sqsRecord.body), deps);

/**
 * SQS `ReturnTriggers` (Shopify refunds, store returns of online orders) → one execution of the
 * omnichannel-return workflow per return (shared/flows/returns).
 */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler((event, context) => processPartialResponse(event, record, processor, { context }));
