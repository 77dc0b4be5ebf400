import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsJsonRouter } from '#local/aws/json-protocol.ts';
import { LocalParameters, LocalSecrets } from '#local/secrets.ts';
import { localClientConfig, serveRouter } from '#test/support/aws-router-server.ts';
import { writeAssembly } from '#test/support/local-template.ts';

const template = writeAssembly({
  ShopifyWebhookSecret9817FB19: {
    Type: 'AWS::SecretsManager::Secret',
    Properties: { GenerateSecretString: { SecretStringTemplate: '{}', GenerateStringKey: 'current' } },
    Metadata: { 'omnihub:role': 'shopify-webhook-secret' },
  },
  OtherSecret: {
    Type: 'AWS::SecretsManager::Secret',
    Properties: {
      GenerateSecretString: { SecretStringTemplate: '{"user":"a"}', GenerateStringKey: 'password' },
    },
  },
  Flag: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/omnihub/flag', Type: 'String', Value: 'on' } },
}).load();

let server: Awaited<ReturnType<typeof serveRouter>>;
let secrets: SecretsManagerClient;
let ssm: SSMClient;

beforeAll(async () => {
  const router = new AwsJsonRouter();
  router.register(
    'secretsmanager',
    new LocalSecrets(template, { OMNIHUB_SHOPIFY_SECRET: 'from-env' }).handle,
  );
  router.register('AmazonSSM', new LocalParameters(template).handle);
  server = await serveRouter(router);
  secrets = new SecretsManagerClient(localClientConfig(server.endpoint));
  ssm = new SSMClient(localClientConfig(server.endpoint));
});

afterAll(async () => {
  secrets.destroy();
  ssm.destroy();
  await server.close();
});

const arnOf = (logicalId: string) => template.resources.get(logicalId)?.arn ?? '';

describe('local Secrets Manager', () => {
  it('serves a known secret from its environment variable, in the shape the hub reads', async () => {
    const value = await secrets.send(
      new GetSecretValueCommand({ SecretId: arnOf('ShopifyWebhookSecret9817FB19') }),
    );
    expect(JSON.parse(value.SecretString ?? '')).toEqual({ current: 'from-env' });
  });

  it('serves the Square signature key and access token in the shapes the POS ingress reads', async () => {
    const square = writeAssembly({
      SquareSignatureKeyA1B2C3D4: {
        Type: 'AWS::SecretsManager::Secret',
        Properties: { GenerateSecretString: { SecretStringTemplate: '{}', GenerateStringKey: 'current' } },
        Metadata: { 'omnihub:role': 'square-signature-key' },
      },
      SquareAccessTokenE5F6A7B8: {
        Type: 'AWS::SecretsManager::Secret',
        Properties: {
          GenerateSecretString: { SecretStringTemplate: '{}', GenerateStringKey: 'accessToken' },
        },
        Metadata: { 'omnihub:role': 'square-access-token' },
      },
    }).load();
    const value = async (local: LocalSecrets, id: string) => {
      const secret = await local.handle('GetSecretValue', { SecretId: square.resources.get(id)?.arn ?? '' });
      return JSON.parse((secret as { SecretString: string }).SecretString) as unknown;
    };

    const defaults = new LocalSecrets(square, {});
    expect(await value(defaults, 'SquareSignatureKeyA1B2C3D4')).toEqual({
      current: 'omnihub-local-square-signature-key',
    });
    // The token the Square sandbox accepts by default.
    expect(await value(defaults, 'SquareAccessTokenE5F6A7B8')).toEqual({
      accessToken: 'EAAAEOmnihubSandboxAccessToken',
    });
    const fromEnv = new LocalSecrets(square, { OMNIHUB_SQUARE_ACCESS_TOKEN: 'EAAAEOther' });
    expect(await value(fromEnv, 'SquareAccessTokenE5F6A7B8')).toEqual({ accessToken: 'EAAAEOther' });
  });

  it('generates any other secret deterministically from its template', async () => {
    const first = await secrets.send(new GetSecretValueCommand({ SecretId: arnOf('OtherSecret') }));
    const parsed = JSON.parse(first.SecretString ?? '') as { user: string; password: string };
    expect(parsed.user).toBe('a');
    expect(parsed.password).toMatch(/^[0-9a-f]{32}$/);
    const again = new LocalSecrets(template, {});
    expect(await again.handle('GetSecretValue', { SecretId: arnOf('OtherSecret') })).toMatchObject({
      SecretString: first.SecretString,
    });
  });

  it('lets an operator rotate a secret locally with PutSecretValue', async () => {
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: arnOf('ShopifyWebhookSecret9817FB19'),
        SecretString: '{"current":"new","previous":"from-env"}',
      }),
    );
    const value = await secrets.send(
      new GetSecretValueCommand({ SecretId: arnOf('ShopifyWebhookSecret9817FB19') }),
    );
    expect(JSON.parse(value.SecretString ?? '')).toEqual({ current: 'new', previous: 'from-env' });
  });

  it('answers ResourceNotFoundException for an unknown secret', async () => {
    await expect(secrets.send(new GetSecretValueCommand({ SecretId: 'nope' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });
});

describe('local SSM parameters', () => {
  it('serves template parameters and ParameterNotFound otherwise', async () => {
    expect((await ssm.send(new GetParameterCommand({ Name: '/omnihub/flag' }))).Parameter?.Value).toBe('on');
    await expect(ssm.send(new GetParameterCommand({ Name: '/nope' }))).rejects.toBeInstanceOf(
      ParameterNotFound,
    );
  });

  it('keeps values written at run time across a restart (snapshot, then restore into a new instance)', async () => {
    const first = new LocalSecrets(template, {});
    await first.handle('PutSecretValue', { SecretId: arnOf('OtherSecret'), SecretString: 'rotated' });
    const parameters = new LocalParameters(template);
    await parameters.handle('PutParameter', { Name: '/omnihub/flag', Value: 'off', Overwrite: true });
    await parameters.handle('PutParameter', { Name: '/omnihub/new', Value: 'n', Type: 'String' });

    const secretsAgain = new LocalSecrets(template, {});
    secretsAgain.restore(JSON.parse(JSON.stringify(first.snapshot())));
    const parametersAgain = new LocalParameters(template);
    parametersAgain.restore(JSON.parse(JSON.stringify(parameters.snapshot())));
    expect(await secretsAgain.handle('GetSecretValue', { SecretId: arnOf('OtherSecret') })).toMatchObject({
      SecretString: 'rotated',
      VersionId: 'v2',
    });
    expect(await parametersAgain.handle('GetParameter', { Name: '/omnihub/flag' })).toMatchObject({
      Parameter: { Value: 'off', Version: 2 },
    });
    expect(await parametersAgain.handle('GetParameter', { Name: '/omnihub/new' })).toMatchObject({
      Parameter: { Value: 'n', Version: 1 },
    });
  });
});
