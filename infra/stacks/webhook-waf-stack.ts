import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import type { WafConfig } from '../config/environments.ts';

/** CloudFront-scope web ACLs live in US East (N. Virginia), whatever region the hub runs in. */
export const CLOUDFRONT_WAF_REGION = 'us-east-1';

/** Blocked requests in 5 minutes above which the alarm fires: a flood, or a vendor's IP hitting the limit. */
export const WAF_BLOCKED_PER_5_MINUTES = 100;

export interface WebhookWafStackProps extends StackProps {
  readonly environmentName: string;
  readonly waf: WafConfig;
}

/**
 * The web ACL in front of the webhook API, in a stack of its own in us-east-1: AWS WAF cannot be attached
 * to an API Gateway HTTP API (only REST APIs, "Choose between REST APIs and HTTP APIs":
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html), so CloudFront fronts
 * the API, and a web ACL for CloudFront must be created in us-east-1 with scope CLOUDFRONT
 * (https://docs.aws.amazon.com/waf/latest/developerguide/how-aws-waf-works-resources.html). The hub stack
 * takes this stack's `WebAclArn` output from the operator config (`edge.waf.webAclArn`) rather than by a
 * CDK cross-region reference, whose SSM-reading custom resources would bring a Lambda with a wildcard
 * `parameter/cdk/exports/...` grant into the hub stack.
 *
 * Rules: a rate-based rule per client IP (limit from config, 5-minute window; 429 so vendors retry later),
 * and Amazon's IP reputation list in count mode — a blocked vendor delivery is a lost or late order, so
 * the list is watched (its metric) rather than trusted to block Shopify's and Square's senders.
 */
export class WebhookWafStack extends Stack {
  readonly webAcl: CfnWebACL;
  readonly blockedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: WebhookWafStackProps) {
    super(scope, id, props);
    const name = `omnihub-${props.environmentName}-webhooks`;
    const visibility = (metricName: string): CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      name,
      description: `Omnihub ${props.environmentName}: rate limit per IP in front of the webhook API`,
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(name),
      customResponseBodies: {
        'rate-limited': { contentType: 'APPLICATION_JSON', content: '{"message":"Too Many Requests"}' },
      },
      rules: [
        {
          name: 'RateLimitPerIp',
          priority: 0,
          statement: {
            rateBasedStatement: {
              limit: props.waf.rateLimitPer5Minutes,
              aggregateKeyType: 'IP',
              evaluationWindowSec: 300,
            },
          },
          action: {
            block: { customResponse: { responseCode: 429, customResponseBodyKey: 'rate-limited' } },
          },
          visibilityConfig: visibility(`${name}-rate-limit`),
        },
        {
          name: 'AmazonIpReputationList',
          priority: 1,
          statement: {
            managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesAmazonIpReputationList' },
          },
          overrideAction: { count: {} },
          visibilityConfig: visibility(`${name}-ip-reputation`),
        },
      ],
    });

    // WAF publishes CloudFront web ACLs' metrics in us-east-1 (AWS/WAFV2, by WebACL and Rule):
    // https://docs.aws.amazon.com/waf/latest/developerguide/waf-metrics.html
    this.blockedAlarm = new Alarm(this, 'BlockedRequestsAlarm', {
      alarmDescription: `More than ${WAF_BLOCKED_PER_5_MINUTES} webhook requests blocked by AWS WAF in 5 minutes: a flood, or a vendor's IP over the rate limit (raise edge.waf.rateLimitPer5Minutes)`,
      metric: new Metric({
        namespace: 'AWS/WAFV2',
        metricName: 'BlockedRequests',
        dimensionsMap: { WebACL: name, Rule: 'ALL' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      threshold: WAF_BLOCKED_PER_5_MINUTES,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    new CfnOutput(this, 'WebAclArn', {
      value: this.webAcl.attrArn,
      description: 'Put this ARN in the operator config as edge.waf.webAclArn, then deploy the hub stack',
    });
  }
}
