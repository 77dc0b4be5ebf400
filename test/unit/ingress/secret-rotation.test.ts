import { describe, expect, it } from 'vitest';
import { signingCandidates } from '#shared/runtime/secrets.ts';

describe('webhook secret rotation', () => {
  const now = new Date('2026-11-27T12:00:00Z');

  it('verifies with the previous secret only until previousUntil', () => {
    const rotating = { current: 'new', previous: 'old', previousUntil: '2026-11-27T13:00:00Z' };
    expect(signingCandidates(rotating, now)).toEqual(['new', 'old']);
    expect(signingCandidates(rotating, new Date('2026-11-27T13:00:01Z'))).toEqual(['new']);
  });

  it('never verifies with a previous secret that has no expiry', () => {
    expect(signingCandidates({ current: 'new', previous: 'old', previousUntil: undefined }, now)).toEqual([
      'new',
    ]);
  });
});
