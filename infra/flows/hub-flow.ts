import type { EventBus } from 'aws-cdk-lib/aws-events';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { EventSource } from '#shared/events/envelope.ts';
import type { EnvironmentConfig } from '../config/environments.ts';
import type { HubFunctionDefaults } from '../constructs/hub-function.ts';
import type { HubTable } from '../constructs/hub-table.ts';
import type { WebhookApi } from '../constructs/webhook-api.ts';

/** Tables more than one flow reads or writes; a table only one flow uses belongs to that flow. */
export interface SharedTables {
  /** Powertools idempotency records of every consumer and webhook (key prefixes per function). */
  readonly idempotency: HubTable;
  /** Parked inputs with their reason, for a fix and a replay. */
  readonly exceptions: HubTable;
  /** What was synced where, per order (ERP leases and versions, POS first completions). */
  readonly ledger: HubTable;
  /** SKU, location and payment-method mappings between the systems. */
  readonly mappings: HubTable;
  /** Trace checkpoints by transaction id (shared/ops/trace.ts; `enableTrace` lets a function write them). */
  readonly trace: HubTable;
}

/** What the stack gives every flow: the environment, the bus, the webhook API and the shared tables. */
export interface HubResources {
  readonly config: EnvironmentConfig;
  readonly bus: EventBus;
  /** The only way to publish: `grantee` may put events of `source` and no other (see `HubBus`). */
  readonly grantPublish: (grantee: { readonly role?: IRole }, source: EventSource) => void;
  readonly webhookApi: WebhookApi;
  readonly tables: SharedTables;
  /** Log retention, removal policy and log level of this environment, bound once for every function. */
  readonly functionDefaults: HubFunctionDefaults;
}

/**
 * One flow of the hub (an ingress, order capture, inventory, …): a construct that owns its functions,
 * queues, tables only it uses, secrets, grants, alarms and outputs, and is added to the stack with one
 * line. A flow's id names a scope in the construct tree (cdk-nag reports, `cdk.out/tree.json`) but not
 * in CloudFormation logical ids (`HubStack.allocateLogicalId`): a resource keeps the id it would have
 * at the stack's top level, so moving it between flows never makes CloudFormation replace it — and two
 * flows cannot both name a resource the same (synthesis fails on the duplicate).
 */
export abstract class HubFlow extends Construct {}
