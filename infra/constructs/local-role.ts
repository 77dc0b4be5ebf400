import { CfnResource } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { LOCAL_ROLE_METADATA_KEY, type LocalRole } from '../config/local-roles.ts';

/**
 * Marks a resource's CloudFormation element with its role in the hub (e.g. `mappings-table`), so that
 * the local cloud finds it by meaning instead of by its logical id. CloudFormation keeps `Metadata` as
 * data and ignores unknown keys.
 */
export function markLocalRole(construct: Construct, role: LocalRole): void {
  const element = construct.node.defaultChild;
  if (!(element instanceof CfnResource)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource to mark as ${role}`);
  }
  element.addMetadata(LOCAL_ROLE_METADATA_KEY, role);
}
