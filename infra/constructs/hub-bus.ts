import { type Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Archive, type CfnArchive, EventBus, Match } from 'aws-cdk-lib/aws-events';
import { AnyPrincipal, Effect, type IRole, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { EventSource } from '#shared/events/envelope.ts';
import { HubKey } from './hub-key.ts';

export interface HubBusProps {
  readonly busName: string;
  readonly archiveName: string;
  /** @default 0 (forever) */
  readonly archiveRetention: Duration;
  /**
   * Detail-types the archive does not keep (e.g. requests that must be applied once and not retained),
   * matched with EventBridge's `anything-but`
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
   * @default none: every event of the account is archived
   */
  readonly archiveExcludes?: readonly string[];
}

/**
 * The hub's event bus and its archive, with publishing confined to the hub's own publishers: within an
 * account an identity policy's Allow is enough to `PutEvents` on any bus, so the bus policy denies
 * every principal that is not a registered publisher, and each publisher may put events of its own
 * `source` only (`events:source`). Consumers trust `omnihub.*` sources because only these roles can
 * put them. Every flow that publishes registers its function here ({@link grantPublish}).
 */
export class HubBus extends Construct {
  readonly bus: EventBus;
  private readonly publisherRoles: IRole[] = [];

  constructor(scope: Construct, id: string, props: HubBusProps) {
    super(scope, id);
    // Created in the stack's scope under the ids the bus was first deployed with.
    const kmsKey = HubKey.of(scope);
    this.bus = new EventBus(scope, 'Bus', { eventBusName: props.busName, ...(kmsKey ? { kmsKey } : {}) });
    // With the hub key, CDK adds the key policy statement AWS documents for the bus (events.amazonaws.com,
    // limited to this bus by aws:SourceArn and kms:EncryptionContext:aws:events:event-bus:arn:
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html). Publishers
    // need no key permission: EventBridge encrypts on their behalf.
    const archive = new Archive(this.bus, 'Archive', {
      sourceEventBus: this.bus,
      archiveName: props.archiveName,
      description: props.archiveExcludes?.length
        ? `Every event on the bus except ${props.archiveExcludes.join(', ')}, for replay`
        : 'Every event on the bus, for replay',
      eventPattern: {
        account: [this.bus.env.account],
        ...(props.archiveExcludes?.length ? { detailType: Match.anythingBut(...props.archiveExcludes) } : {}),
      },
      retention: props.archiveRetention,
    });
    if (kmsKey) encryptArchive(archive, kmsKey, props.busName);
    this.bus.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyHubPublishers',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: {
          ArnNotEquals: {
            'aws:PrincipalArn': Lazy.list({ produce: () => this.publisherRoles.map((role) => role.roleArn) }),
          },
        },
      }),
    );
  }

  /** Lets `grantee` put events of `source` (and no other) on the bus. */
  grantPublish(grantee: { readonly role?: IRole }, source: EventSource): void {
    const role = grantee.role;
    if (!role) throw new Error('a bus publisher needs a role');
    // A publisher of two sources (the reconciler re-publishes as either ingress) is one principal.
    if (!this.publisherRoles.includes(role)) this.publisherRoles.push(role);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { StringEquals: { 'events:source': source } },
      }),
    );
  }
}

/**
 * Encrypts the archive with the hub key. Set on the CloudFormation resource, with the key policy statement
 * AWS documents for archives (events.amazonaws.com: kms:DescribeKey; kms:Decrypt, kms:GenerateDataKey,
 * kms:ReEncrypt* in the bus's encryption context:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/encryption-archives.html), naming the bus by
 * its ARN as text: CDK's `kmsKey` on `Archive` names it by reference, which is a cycle (key policy → bus →
 * key), and `EventBus.archive()` drops the key altogether (aws-cdk-lib 2.276).
 */
function encryptArchive(archive: Archive, key: IKey, busName: string): void {
  (archive.node.defaultChild as CfnArchive).kmsKeyIdentifier = key.keyArn;
  const busArn = Stack.of(archive).formatArn({
    service: 'events',
    resource: 'event-bus',
    resourceName: busName,
  });
  const events = new ServicePrincipal('events.amazonaws.com');
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'EventBridgeArchiveDescribeKey',
      principals: [events],
      actions: ['kms:DescribeKey'],
      resources: ['*'],
    }),
  );
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'EventBridgeArchiveOfTheHubBus',
      principals: [events],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncrypt*'],
      resources: ['*'],
      conditions: { StringEquals: { 'kms:EncryptionContext:aws:events:event-bus:arn': busArn } },
    }),
  );
}
