import * as z from 'zod';
import { type DetailType, detailSchema, EVENT_CATALOG } from './catalog.ts';

export type JsonSchema = Record<string, unknown>;

/** The published JSON Schema of one event's `detail`, with its catalog entry in `x-omnihub`. */
export function eventJsonSchema(detailType: DetailType): JsonSchema {
  const definition = EVENT_CATALOG[detailType];
  const schema = z.toJSONSchema(detailSchema(detailType), {
    target: 'draft-2020-12',
    io: 'output',
  }) as JsonSchema;
  const { $schema, ...rest } = schema;
  return {
    $schema,
    $id: `urn:omnihub:event:${detailType}:${definition.version}`,
    title: detailType,
    description: definition.description,
    'x-omnihub': { detailType, schemaVersion: definition.version, sources: [...definition.sources] },
    ...rest,
  };
}

/** `1.10` > `1.9`: versions compare numerically by major, then minor. */
export function compareVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

export const majorOf = (version: string): number => Number(version.split('.')[0]);

const asSchema = (value: unknown): JsonSchema | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonSchema) : undefined;

const typesOf = (schema: JsonSchema): string => {
  const type = schema.type;
  return Array.isArray(type) ? [...type].sort().join('|') : typeof type === 'string' ? type : '';
};

/**
 * Changes from `before` to `after` that break a consumer of events written with `after` while it
 * still reads them as `before`: a removed (or renamed) property, a changed type or format, a required
 * field made optional, a removed enum value, or a changed set of alternatives. Additions are not
 * breaking. Each entry names the JSON path.
 */
export function breakingChanges(before: JsonSchema, after: JsonSchema, path = '$'): string[] {
  const changes: string[] = [];
  if (typesOf(before) !== typesOf(after)) {
    changes.push(`${path}: type changed from ${typesOf(before) || 'any'} to ${typesOf(after) || 'any'}`);
    return changes;
  }
  for (const keyword of ['format', 'const', 'pattern'] as const) {
    if (JSON.stringify(before[keyword]) !== JSON.stringify(after[keyword])) {
      changes.push(
        `${path}: ${keyword} changed from ${JSON.stringify(before[keyword])} to ${JSON.stringify(after[keyword])}`,
      );
    }
  }
  if (Array.isArray(before.enum)) {
    const allowed = new Set(
      (Array.isArray(after.enum) ? after.enum : []).map((value) => JSON.stringify(value)),
    );
    for (const value of before.enum) {
      if (!allowed.has(JSON.stringify(value)))
        changes.push(`${path}: enum value ${JSON.stringify(value)} removed`);
    }
  }
  for (const keyword of ['anyOf', 'oneOf', 'allOf'] as const) {
    const oldBranches = Array.isArray(before[keyword]) ? (before[keyword] as unknown[]) : [];
    const newBranches = Array.isArray(after[keyword]) ? (after[keyword] as unknown[]) : [];
    if (oldBranches.length !== newBranches.length) {
      changes.push(
        `${path}: ${keyword} changed from ${oldBranches.length} to ${newBranches.length} alternatives`,
      );
      continue;
    }
    oldBranches.forEach((branch, index) => {
      const oldBranch = asSchema(branch);
      const newBranch = asSchema(newBranches[index]);
      if (oldBranch && newBranch)
        changes.push(...breakingChanges(oldBranch, newBranch, `${path}.${keyword}[${index}]`));
    });
  }
  const oldProperties = asSchema(before.properties) ?? {};
  const newProperties = asSchema(after.properties) ?? {};
  const newRequired = new Set(Array.isArray(after.required) ? (after.required as string[]) : []);
  const oldRequired = new Set(Array.isArray(before.required) ? (before.required as string[]) : []);
  for (const [name, oldProperty] of Object.entries(oldProperties)) {
    const newProperty = asSchema(newProperties[name]);
    if (!newProperty) {
      changes.push(`${path}.${name}: removed or renamed`);
      continue;
    }
    if (oldRequired.has(name) && !newRequired.has(name))
      changes.push(`${path}.${name}: required field made optional`);
    const oldSchema = asSchema(oldProperty);
    if (oldSchema) changes.push(...breakingChanges(oldSchema, newProperty, `${path}.${name}`));
  }
  const oldItems = asSchema(before.items);
  const newItems = asSchema(after.items);
  if (oldItems && newItems) changes.push(...breakingChanges(oldItems, newItems, `${path}[]`));
  else if (oldItems && !newItems) changes.push(`${path}[]: item schema removed`);
  const oldValues = asSchema(before.additionalProperties);
  const newValues = asSchema(after.additionalProperties);
  if (oldValues && newValues) changes.push(...breakingChanges(oldValues, newValues, `${path}{}`));
  return changes;
}

/** The schema with every `description` and `title` removed: what is left is the contract. */
export function withoutDescriptions(schema: JsonSchema): JsonSchema {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== 'description' && key !== 'title')
        .map(([key, inner]) => [key, strip(inner)]),
    );
  };
  return strip(schema) as JsonSchema;
}
