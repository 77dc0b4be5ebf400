import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { LocalRole } from '../config/local-roles.ts';
import { HubKey } from './hub-key.ts';
import { markLocalRole } from './local-role.ts';

export interface VendorSecretProps {
  /** What the secret holds and its JSON shape, e.g. `{"current": "...", "previous": "..."}`. */
  readonly description: string;
  /**
   * The key that gets a random placeholder, so nothing verifies (or authenticates) until an operator
   * stores the vendor's real value.
   */
  readonly placeholderKey: string;
  /**
   * Fixed, non-secret fields of the JSON (e.g. the account id). Changing them (or the placeholder)
   * later makes CloudFormation generate a new value over the one the operator stored.
   * @default {}
   */
  readonly template?: Readonly<Record<string, string>>;
  /** Length of the random placeholder. @default Secrets Manager's default (32) */
  readonly placeholderLength?: number;
  /**
   * Who issues and rotates the value and how: the reason Secrets Manager's own rotation
   * (cdk-nag AwsSolutions-SMG4) does not apply to a credential a vendor issues.
   */
  readonly rotatedBy: string;
  /** How the local cloud recognises the secret to fill it with the sandbox's value (see `local/secrets.ts`). */
  readonly localRole: LocalRole;
  readonly removalPolicy: RemovalPolicy;
  /**
   * The hub's customer managed key; `grantRead` then grants `kms:Decrypt` through Secrets Manager.
   * @default the stack's `HubKey`, if any, else Secrets Manager's AWS managed key
   */
  readonly encryptionKey?: IKey;
}

/**
 * A credential issued by a vendor (Shopify app secret, Square signature key or token, NetSuite M2M key):
 * created with a random placeholder — never a value in the template — and stored by an operator.
 */
export class VendorSecret extends Secret {
  constructor(scope: Construct, id: string, props: VendorSecretProps) {
    const encryptionKey = props.encryptionKey ?? HubKey.of(scope);
    super(scope, id, {
      description: props.description,
      generateSecretString: {
        secretStringTemplate: JSON.stringify(props.template ?? {}),
        generateStringKey: props.placeholderKey,
        ...(props.placeholderLength === undefined ? {} : { passwordLength: props.placeholderLength }),
        excludePunctuation: true,
      },
      removalPolicy: props.removalPolicy,
      ...(encryptionKey ? { encryptionKey } : {}),
    });
    Validations.of(this).acknowledge({ id: 'AwsSolutions-SMG4', reason: props.rotatedBy });
    markLocalRole(this, props.localRole);
  }
}
