import { createHash } from 'node:crypto';
import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

const HIDDEN_ID = 'Default';
const HIDDEN_FROM_HUMAN_ID = 'Resource';
const MAX_HUMAN_LEN = 240;
const MAX_ID_LEN = 255;

const alphanumeric = (component: string) => component.replace(/[^A-Za-z0-9]/g, '');

/**
 * CloudFormation logical id of a construct path, by the algorithm `Stack.allocateLogicalId` uses
 * (aws-cdk-lib `core/lib/private/uniqueid.ts`, not exported): the path's components without `Default`,
 * a human part without `Resource` and repeated suffixes, and the first 8 hex digits of the path's MD5.
 * `test/infra/logical-ids.test.ts` checks it against CDK's own ids.
 */
export function logicalIdOf(components: readonly string[]): string {
  const path = components.filter((component) => component !== HIDDEN_ID);
  if (path.length === 0) throw new Error('a logical id needs at least one path component');
  if (path.length === 1) {
    const candidate = alphanumeric(path[0] as string);
    if (candidate.length <= MAX_ID_LEN) return candidate;
  }
  const hash = createHash('md5').update(path.join('/')).digest('hex').slice(0, 8).toUpperCase();
  const human: string[] = [];
  for (const component of path) {
    if (human.length === 0 || !(human[human.length - 1] as string).endsWith(component)) human.push(component);
  }
  return (
    human
      .filter((component) => component !== HIDDEN_FROM_HUMAN_ID)
      .map(alphanumeric)
      .join('')
      .slice(0, MAX_HUMAN_LEN) + hash
  );
}

/**
 * The logical id of `element` as if the scopes `transparent` says so were not there: the path below
 * the stack without them.
 */
export function logicalIdWithout(element: CfnElement, transparent: (scope: IConstruct) => boolean): string {
  const scopes = element.node.scopes;
  const below = scopes.slice(scopes.indexOf(element.stack) + 1);
  return logicalIdOf(below.filter((scope) => !transparent(scope)).map((scope) => scope.node.id));
}
