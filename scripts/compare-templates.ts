/**
 * `npx tsx scripts/compare-templates.ts <before.template.json> <after.template.json>`: what a deploy of
 * `after` over `before` would change, resource by logical id. A removed-and-added stateful resource
 * (table, queue, secret, bus, archive) is a replacement CloudFormation would make: the data stays in
 * the old one (RETAIN) or is lost (DESTROY). Asset hashes (S3Key) are ignored: they change with the code.
 */
import { readFileSync } from 'node:fs';

interface Resource {
  Type: string;
  Properties?: unknown;
  Metadata?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: unknown;
}
interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, unknown>;
}

export const STATEFUL_TYPES = [
  'AWS::DynamoDB::Table',
  'AWS::SQS::Queue',
  'AWS::SecretsManager::Secret',
  'AWS::Events::EventBus',
  'AWS::Events::Archive',
  'AWS::Logs::LogGroup',
];

const IGNORED_METADATA = new Set([
  'aws:cdk:path',
  'aws:asset:path',
  'aws:asset:is-bundled',
  'aws:asset:property',
]);

/** Every path where two JSON values differ, as `a.b[2].c: before → after`. */
function diff(before: unknown, after: unknown, path: string, out: string[]): void {
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  if (path.endsWith('.S3Key')) return;
  const bothObjects =
    before !== null && after !== null && typeof before === 'object' && typeof after === 'object';
  if (bothObjects && Array.isArray(before) === Array.isArray(after)) {
    const keys = new Set([...Object.keys(before as object), ...Object.keys(after as object)]);
    for (const key of keys) {
      const child = Array.isArray(before) ? `${path}[${key}]` : `${path}.${key}`;
      diff((before as Record<string, unknown>)[key], (after as Record<string, unknown>)[key], child, out);
    }
    return;
  }
  out.push(`${path}: ${JSON.stringify(before) ?? '(none)'} → ${JSON.stringify(after) ?? '(none)'}`);
}

const comparable = (resource: Resource) => ({
  Type: resource.Type,
  Properties: resource.Properties,
  DeletionPolicy: resource.DeletionPolicy,
  UpdateReplacePolicy: resource.UpdateReplacePolicy,
  DependsOn: resource.DependsOn,
  Metadata: Object.fromEntries(
    Object.entries(resource.Metadata ?? {}).filter(([key]) => !IGNORED_METADATA.has(key)),
  ),
});

/** The differences between two templates, one line each; empty when a deploy would change nothing. */
export function compareTemplates(before: Template, after: Template): string[] {
  const lines: string[] = [];
  for (const [id, resource] of Object.entries(before.Resources)) {
    if (!(id in after.Resources)) {
      const stateful = STATEFUL_TYPES.includes(resource.Type) ? ' (STATEFUL: replaced or orphaned)' : '';
      lines.push(`removed ${resource.Type} ${id}${stateful}`);
    }
  }
  for (const [id, resource] of Object.entries(after.Resources)) {
    const old = before.Resources[id];
    if (!old) {
      lines.push(`added ${resource.Type} ${id}`);
      continue;
    }
    const changes: string[] = [];
    diff(comparable(old), comparable(resource), '', changes);
    for (const change of changes) lines.push(`changed ${resource.Type} ${id}${change}`);
  }
  const outputs: string[] = [];
  diff(before.Outputs ?? {}, after.Outputs ?? {}, 'Outputs', outputs);
  lines.push(...outputs.map((change) => `changed ${change}`));
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [beforePath, afterPath] = process.argv.slice(2);
  if (!beforePath || !afterPath) {
    console.error('usage: tsx scripts/compare-templates.ts <before.template.json> <after.template.json>');
    process.exit(2);
  }
  const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Template;
  const lines = compareTemplates(read(beforePath), read(afterPath));
  console.log(lines.length === 0 ? 'no differences' : lines.join('\n'));
}
