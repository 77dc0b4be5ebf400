import { describe, expect, it } from 'vitest';
import { originVerified } from '#shared/ingress/origin-verify.ts';

describe('origin verify (requests that came through CloudFront)', () => {
  const current = 'c'.repeat(64);
  const previous = 'p'.repeat(64);

  it('accepts the current secret, and the previous one while it is a candidate', () => {
    expect(originVerified(current, [current])).toBe(true);
    expect(originVerified(previous, [current, previous])).toBe(true);
  });

  it('refuses a missing, empty, wrong, truncated, extended or oversized value', () => {
    expect(originVerified(undefined, [current])).toBe(false);
    expect(originVerified('', [current])).toBe(false);
    expect(originVerified(previous, [current])).toBe(false);
    expect(originVerified(current.slice(1), [current])).toBe(false);
    expect(originVerified(`${current} `, [current])).toBe(false);
    expect(originVerified('c'.repeat(2000), ['c'.repeat(2000)])).toBe(false);
  });

  it('never matches an empty candidate', () => {
    expect(originVerified('x', [''])).toBe(false);
  });
});
