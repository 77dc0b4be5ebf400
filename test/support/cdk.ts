import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';

/**
 * A CDK app for tests that read the synthesized template: it synthesizes into a temporary directory
 * and does not bundle the Lambda code (an empty `aws:cdk:bundling-stacks`, as `cdk synth --exclusively`
 * does for the stacks it skips). Bundling is about 3 s of a 3.5 s synth and changes nothing in the
 * template but asset hashes; the tests that read bundles (Lambda bundles, e2e) build a full app.
 */
export function templateApp(context: Readonly<Record<string, string>>): App {
  return new App({
    outdir: mkdtempSync(join(tmpdir(), 'omnihub-cdk-')),
    context: { ...operatorConfigFor(context.env), ...context, 'aws:cdk:bundling-stacks': [] },
  });
}

/** Staging and prod cannot synthesize without an operator config: tests use the committed example. */
export const operatorConfigFor = (env: string | undefined): Record<string, string> =>
  env === 'staging' || env === 'prod' ? { config: `docs/examples/operator-config.${env}.json` } : {};
