import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { type DetailType, EVENT_CATALOG } from '#shared/events/catalog.ts';
import {
  breakingChanges,
  compareVersions,
  eventJsonSchema,
  type JsonSchema,
  majorOf,
} from '#shared/events/contract.ts';
import { OrderSchema } from '#shared/events/order.ts';
import { EVENTS_DIR, publishedVersions, readPublished } from '../../scripts/export-schemas.ts';

const detailTypes = Object.keys(EVENT_CATALOG) as DetailType[];
const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema) as JsonSchema;

describe('event contracts (docs/events)', () => {
  describe.each(detailTypes)('%s', (detailType) => {
    const version = EVENT_CATALOG[detailType].version;
    const versions = publishedVersions(detailType);

    it('has its current version published (run `npm run schemas`)', () => {
      expect(versions.at(-1)).toBe(version);
    });

    it('matches the published schema of its version: a change needs a version bump', () => {
      const published = readPublished(detailType, version);
      const generated = eventJsonSchema(detailType);
      const breaking = breakingChanges(published, generated);
      expect(breaking, `breaking changes under ${version}: bump the major`).toEqual([]);
      expect(
        generated,
        'schema changed: bump the version in shared/events/catalog.ts and run npm run schemas',
      ).toEqual(published);
    });

    it('never broke consumers within a major version', () => {
      for (let index = 1; index < versions.length; index += 1) {
        const before = versions[index - 1] as string;
        const after = versions[index] as string;
        if (majorOf(before) !== majorOf(after)) continue;
        expect(
          breakingChanges(readPublished(detailType, before), readPublished(detailType, after)),
          `${before} → ${after}`,
        ).toEqual([]);
      }
    });
  });
});

describe('published detail-types', () => {
  it('all remain in the catalog: removing an event type breaks its consumers', () => {
    const published = readdirSync(EVENTS_DIR, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(published.length).toBeGreaterThan(0);
    expect(published.filter((name) => !detailTypes.includes(name as DetailType))).toEqual([]);
  });
});

describe('breakingChanges', () => {
  const base = z.object({
    id: z.string(),
    quantity: z.number().int(),
    status: z.enum(['open', 'closed']),
    lines: z.array(z.object({ sku: z.string(), price: z.number().int() })),
    note: z.string().nullable(),
  });
  const before = jsonSchema(base);

  it('finds a removed field', () => {
    expect(breakingChanges(before, jsonSchema(base.omit({ quantity: true })))).toEqual([
      '$.quantity: removed or renamed',
    ]);
  });

  it('finds a renamed field', () => {
    const renamed = base.omit({ id: true }).extend({ orderId: z.string() });
    expect(breakingChanges(before, jsonSchema(renamed))).toEqual(['$.id: removed or renamed']);
  });

  it('finds a retyped field, also inside arrays', () => {
    expect(breakingChanges(before, jsonSchema(base.extend({ quantity: z.string() })))).toEqual([
      '$.quantity: type changed from integer to string',
    ]);
    const retypedLine = base.extend({ lines: z.array(z.object({ sku: z.string(), price: z.string() })) });
    expect(breakingChanges(before, jsonSchema(retypedLine))).toEqual([
      '$.lines[].price: type changed from integer to string',
    ]);
  });

  it('finds a required field made optional and a nullable change', () => {
    expect(breakingChanges(before, jsonSchema(base.extend({ id: z.string().optional() })))).toEqual([
      '$.id: required field made optional',
    ]);
    expect(breakingChanges(before, jsonSchema(base.extend({ id: z.string().nullable() })))).not.toEqual([]);
  });

  it('finds a removed enum value but accepts an added one', () => {
    expect(breakingChanges(before, jsonSchema(base.extend({ status: z.enum(['open']) })))).toEqual([
      '$.status: enum value "closed" removed',
    ]);
    expect(
      breakingChanges(before, jsonSchema(base.extend({ status: z.enum(['open', 'closed', 'held']) }))),
    ).toEqual([]);
  });

  it('accepts an added field', () => {
    expect(breakingChanges(before, jsonSchema(base.extend({ channel: z.string() })))).toEqual([]);
  });

  it('would fail the contract if a published field of OrderCreated were dropped', () => {
    const published = readPublished('OrderCreated', '1.0');
    const dropped = jsonSchema(
      z.object({ metadata: z.unknown(), data: OrderSchema.omit({ channel: true }) }),
    );
    expect(breakingChanges(published, dropped)).toContain('$.data.channel: removed or renamed');
  });

  it('orders versions numerically', () => {
    expect(['1.10', '1.9', '2.0', '1.0'].sort(compareVersions)).toEqual(['1.0', '1.9', '1.10', '2.0']);
  });
});
