import { describe, expect, it } from 'vitest';

describe('toolchain', () => {
  it('runs the tests on Node.js 24 (the pinned node devDependency), as Lambda runs nodejs24.x', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
  });
});
