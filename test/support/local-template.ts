import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalTemplate, loadTemplate } from '#local/template.ts';

/**
 * Writes a CloudFormation template (and, per function, an asset directory with its `index.mjs`) to a
 * temp cloud assembly and loads it as the local cloud would.
 */
export function writeAssembly(
  resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >,
  assets: Record<string, string> = {},
  stackName = 'Test',
): { dir: string; load: (options?: { sqsEndpoint?: string; apiEndpoint?: string }) => LocalTemplate } {
  const dir = mkdtempSync(join(tmpdir(), 'omnihub-assembly-'));
  for (const [asset, code] of Object.entries(assets)) {
    mkdirSync(join(dir, `asset.${asset}`), { recursive: true });
    writeFileSync(join(dir, `asset.${asset}`, 'index.mjs'), code);
  }
  writeFileSync(join(dir, `${stackName}.template.json`), JSON.stringify({ Resources: resources }));
  return {
    dir,
    load: (options = {}) =>
      loadTemplate(dir, stackName, {
        sqsEndpoint: options.sqsEndpoint ?? 'http://127.0.0.1:9324',
        apiEndpoint: options.apiEndpoint ?? 'http://127.0.0.1:3000',
      }),
  };
}

/** An `AWS::Lambda::Function` resource whose code is the asset `asset`. */
export function lambdaResource(asset: string, properties: Record<string, unknown> = {}) {
  return {
    Type: 'AWS::Lambda::Function',
    Properties: {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Timeout: 3,
      MemorySize: 256,
      Code: { S3Key: `${asset}.zip` },
      ...properties,
    },
    Metadata: { 'aws:asset:path': `asset.${asset}` },
  };
}
