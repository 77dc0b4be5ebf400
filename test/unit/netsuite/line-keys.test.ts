import { describe, expect, it } from 'vitest';
import { matchLineKeys } from '#shared/connectors/netsuite/adapter.ts';
import type { NsSaleLine } from '#shared/connectors/netsuite/mapper.ts';
import { ErpValidationError } from '#shared/ports/erp-errors.ts';

const sent = (key: string, item: string | undefined, line?: number): NsSaleLine => ({
  ...(line !== undefined ? { line } : {}),
  ...(item !== undefined ? { item: { id: item } } : {}),
  quantity: 1,
  amount: '1.00',
  taxDetailsReference: key,
});

describe('matchLineKeys: which ERP line each hub line became', () => {
  it('keeps known keys, finds new lines by their tax details reference', () => {
    const keys = matchLineKeys(
      [sent('line-1', '100', 1), sent('line-2', '101'), sent('line-3', '100')],
      [
        { line: '1', item: '100', taxDetailsReference: 'line-1' },
        { line: '5', item: '100', taxDetailsReference: 'line-3' },
        { line: '4', item: '101', taxDetailsReference: 'line-2' },
      ],
      { 'line-1': '1' },
    );
    expect(keys).toEqual({ 'line-1': '1', 'line-2': '4', 'line-3': '5' });
  });

  it('falls back to the first unclaimed line of the same item, in order, when the ERP set its own references', () => {
    const keys = matchLineKeys(
      [sent('line-1', '100', 1), sent('line-2', '100'), sent('discount-2', '1'), sent('line-3', '100')],
      [
        { line: '1', item: '100', taxDetailsReference: 'A' },
        { line: '2', item: '100', taxDetailsReference: 'B' },
        { line: '3', item: '1', taxDetailsReference: 'C' },
        { line: '4', item: '100', taxDetailsReference: 'D' },
      ],
      { 'line-1': '1' },
    );
    expect(keys).toEqual({ 'line-1': '1', 'line-2': '2', 'discount-2': '3', 'line-3': '4' });
  });

  it('keeps a closed line sent only by its key (no item)', () => {
    const keys = matchLineKeys(
      [sent('line-1', '100', 1), sent('line-9', undefined, 7)],
      [
        { line: '1', item: '100', taxDetailsReference: 'line-1' },
        { line: '7', item: '105', taxDetailsReference: 'line-9' },
      ],
      { 'line-1': '1', 'line-9': '7' },
    );
    expect(keys).toEqual({ 'line-1': '1', 'line-9': '7' });
  });

  it('treats a known key the ERP no longer has as a new line', () => {
    const keys = matchLineKeys(
      [sent('line-1', '100', 3)],
      [{ line: '8', item: '100', taxDetailsReference: 'line-1' }],
      { 'line-1': '3' },
    );
    expect(keys).toEqual({ 'line-1': '8' });
  });

  it('refuses to guess when a sent line is not in the ERP document', () => {
    expect(() =>
      matchLineKeys([sent('line-1', '100'), sent('line-2', '101')], [{ line: '1', item: '100' }], {}),
    ).toThrow(ErpValidationError);
  });
});
