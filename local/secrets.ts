import { createHash } from 'node:crypto';
import { LOCAL_ROLE_METADATA_KEY, type LocalRole } from '#infra/config/local-roles.ts';
import { AwsServiceError } from './aws/json-protocol.ts';
import type { LocalTemplate } from './template.ts';

/**
 * Local values for the template's secrets, recognised by the role their construct marked them with
 * (`omnihub:role` metadata). A known secret takes its value from an environment variable or a
 * documented default (printed in README); any other gets a value derived from its logical id, shaped
 * like its GenerateSecretString.
 */
export const KNOWN_SECRETS: readonly {
  readonly role: LocalRole;
  readonly env: string;
  readonly defaultValue: string;
  readonly render: (value: string) => string;
}[] = [
  {
    role: 'shopify-webhook-secret',
    env: 'OMNIHUB_SHOPIFY_SECRET',
    defaultValue: 'omnihub-local-shopify-secret',
    render: (value: string) => JSON.stringify({ current: value }),
  },
  {
    role: 'square-signature-key',
    env: 'OMNIHUB_SQUARE_SIGNATURE_KEY',
    defaultValue: 'omnihub-local-square-signature-key',
    render: (value: string) => JSON.stringify({ current: value }),
  },
  {
    // The Square sandbox accepts this bearer token by default (sandbox/square: `accessToken`).
    role: 'square-access-token',
    env: 'OMNIHUB_SQUARE_ACCESS_TOKEN',
    defaultValue: 'EAAAEOmnihubSandboxAccessToken',
    render: (value: string) => JSON.stringify({ accessToken: value }),
  },
  {
    // The Shopify sandbox accepts this Admin API token by default (sandbox/shopify: `accessToken`).
    role: 'shopify-admin-token',
    env: 'OMNIHUB_SHOPIFY_ACCESS_TOKEN',
    defaultValue: 'shpat_omnihub_sandbox_0000000000000000',
    render: (value: string) => JSON.stringify({ accessToken: value }),
  },
  {
    // `npm start` fills it with the NetSuite sandbox's M2M credentials (a published test key pair).
    role: 'netsuite-credentials',
    env: 'OMNIHUB_NETSUITE_CREDENTIALS',
    defaultValue:
      '{"accountId":"TSTDRV1234567","clientId":"unset","certificateId":"unset","privateKeyPem":"unset"}',
    render: (value: string) => value,
  },
];

/** The local default of a known secret (the sandboxes accept it). */
export const localSecretDefault = (role: LocalRole): string =>
  KNOWN_SECRETS.find((secret) => secret.role === role)?.defaultValue ?? '';

interface StoredSecret {
  readonly arn: string;
  readonly name: string;
  value: string;
  version: number;
}

/** `secretsmanager` target prefix: GetSecretValue, DescribeSecret, PutSecretValue, ListSecrets. */
export class LocalSecrets {
  private readonly secrets = new Map<string, StoredSecret>();

  constructor(template: LocalTemplate, env: NodeJS.ProcessEnv = process.env) {
    for (const secret of template.ofType('AWS::SecretsManager::Secret')) {
      const known = KNOWN_SECRETS.find(
        (candidate) => secret.metadata[LOCAL_ROLE_METADATA_KEY] === candidate.role,
      );
      let value: string;
      if (known) {
        value = known.render(env[known.env] ?? known.defaultValue);
      } else if (typeof secret.properties.SecretString === 'string') {
        value = secret.properties.SecretString;
      } else {
        const generate = secret.properties.GenerateSecretString as
          | { SecretStringTemplate?: string; GenerateStringKey?: string }
          | undefined;
        const generated = createHash('sha256')
          .update(`${template.stackName}/${secret.logicalId}`)
          .digest('hex')
          .slice(0, 32);
        value =
          generate?.SecretStringTemplate && generate.GenerateStringKey
            ? JSON.stringify({
                ...(JSON.parse(generate.SecretStringTemplate) as object),
                [generate.GenerateStringKey]: generated,
              })
            : generated;
      }
      const stored: StoredSecret = { arn: secret.arn, name: secret.name, value, version: 1 };
      this.secrets.set(secret.arn, stored);
      this.secrets.set(secret.name, stored);
    }
  }

  /** Values written at run time (PutSecretValue), by ARN: what the local state keeps across restarts. */
  snapshot(): Record<string, { value: string; version: number }> {
    return Object.fromEntries(
      [...new Set(this.secrets.values())]
        .filter((secret) => secret.version > 1)
        .map((secret) => [secret.arn, { value: secret.value, version: secret.version }]),
    );
  }

  /** Puts back values written in an earlier run; secrets the template no longer has are ignored. */
  restore(saved: Record<string, { value: string; version: number }>): void {
    for (const [arn, { value, version }] of Object.entries(saved)) {
      const secret = this.secrets.get(arn);
      if (!secret) continue;
      secret.value = value;
      secret.version = version;
    }
  }

  private find(id: unknown): StoredSecret {
    const secret = this.secrets.get(String(id));
    if (!secret)
      throw new AwsServiceError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    return secret;
  }

  readonly handle = async (operation: string, input: Record<string, unknown>): Promise<unknown> => {
    switch (operation) {
      case 'GetSecretValue': {
        const secret = this.find(input.SecretId);
        return {
          ARN: secret.arn,
          Name: secret.name,
          SecretString: secret.value,
          VersionId: `v${secret.version}`,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: Date.now() / 1000,
        };
      }
      case 'DescribeSecret': {
        const secret = this.find(input.SecretId);
        return { ARN: secret.arn, Name: secret.name };
      }
      case 'PutSecretValue': {
        const secret = this.find(input.SecretId);
        if (typeof input.SecretString !== 'string')
          throw new AwsServiceError('InvalidParameterException', 'SecretString is required');
        secret.value = input.SecretString;
        secret.version += 1;
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: `v${secret.version}`,
          VersionStages: ['AWSCURRENT'],
        };
      }
      case 'ListSecrets':
        return {
          SecretList: [...new Set(this.secrets.values())].map((secret) => ({
            ARN: secret.arn,
            Name: secret.name,
          })),
        };
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `secretsmanager.${operation} is not emulated locally`,
        );
    }
  };
}

/** `AmazonSSM` target prefix: the template's `AWS::SSM::Parameter` values (GetParameter(s), PutParameter). */
export class LocalParameters {
  private readonly parameters = new Map<
    string,
    { name: string; type: string; value: string; version: number }
  >();

  private readonly fromTemplate = new Set<string>();

  constructor(template: LocalTemplate) {
    for (const parameter of template.ofType('AWS::SSM::Parameter')) {
      const name = String(parameter.properties.Name ?? parameter.name);
      this.fromTemplate.add(name);
      this.parameters.set(name, {
        name,
        type: String(parameter.properties.Type ?? 'String'),
        value: String(parameter.properties.Value ?? ''),
        version: 1,
      });
    }
  }

  /** Every parameter with its value and version (PutParameter included): what the local state keeps. */
  snapshot(): { name: string; type: string; value: string; version: number }[] {
    return [...this.parameters.values()].filter(
      (parameter) => parameter.version > 1 || !this.fromTemplate.has(parameter.name),
    );
  }

  /** Puts back parameters written in an earlier run. */
  restore(saved: readonly { name: string; type: string; value: string; version: number }[]): void {
    for (const parameter of saved) this.parameters.set(parameter.name, { ...parameter });
  }

  private describe(name: string) {
    const parameter = this.parameters.get(name);
    if (!parameter) return undefined;
    return {
      Name: parameter.name,
      Type: parameter.type,
      Value: parameter.value,
      Version: parameter.version,
      ARN: `arn:aws:ssm:us-east-1:000000000000:parameter${parameter.name.startsWith('/') ? '' : '/'}${parameter.name}`,
      DataType: 'text',
    };
  }

  readonly handle = async (operation: string, input: Record<string, unknown>): Promise<unknown> => {
    switch (operation) {
      case 'GetParameter': {
        const parameter = this.describe(String(input.Name));
        if (!parameter)
          throw new AwsServiceError('ParameterNotFound', `Parameter ${String(input.Name)} not found.`);
        return { Parameter: parameter };
      }
      case 'GetParameters': {
        const names = (input.Names as string[] | undefined) ?? [];
        return {
          Parameters: names.map((name) => this.describe(name)).filter(Boolean),
          InvalidParameters: names.filter((name) => !this.parameters.has(name)),
        };
      }
      case 'PutParameter': {
        const name = String(input.Name);
        const existing = this.parameters.get(name);
        if (existing && input.Overwrite !== true)
          throw new AwsServiceError('ParameterAlreadyExists', 'The parameter already exists.');
        const version = (existing?.version ?? 0) + 1;
        this.parameters.set(name, {
          name,
          type: String(input.Type ?? existing?.type ?? 'String'),
          value: String(input.Value),
          version,
        });
        return { Version: version, Tier: 'Standard' };
      }
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `AmazonSSM.${operation} is not emulated locally`,
        );
    }
  };
}
