import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript on purpose: it runs before anything is installed.
import { javaInstallHint, javaMajor, missingPackages } from '../../scripts/bootstrap.mjs';

describe('bootstrap (npm start / npm test on a fresh clone)', () => {
  it('reads Java major versions in both numbering schemes', () => {
    expect(javaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(javaMajor('java version "1.8.0_381"')).toBe(8);
    expect(javaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(javaMajor('')).toBeUndefined();
  });

  it('names the install command of the platform', () => {
    expect(javaInstallHint('linux', true)).toBe(
      'sudo apt-get update && sudo apt-get install -y openjdk-17-jre-headless',
    );
    expect(javaInstallHint('darwin', false)).toBe('brew install openjdk@17');
    expect(javaInstallHint('win32', false)).toBe('winget install Microsoft.OpenJDK.17');
  });

  it('reinstalls when a locked package is missing or at another version, never for optional ones', () => {
    const lockfile = {
      packages: {
        '': { name: 'omnihub' },
        'node_modules/zod': { version: '4.6.7' },
        'node_modules/vitest': { version: '5.1.2' },
        'node_modules/@esbuild/darwin-arm64': { version: '0.28.2', optional: true },
      },
    };
    expect(missingPackages(lockfile, undefined)).toEqual(['zod', 'vitest']);
    expect(
      missingPackages(lockfile, {
        packages: { 'node_modules/zod': { version: '4.6.7' }, 'node_modules/vitest': { version: '5.1.1' } },
      }),
    ).toEqual(['vitest']);
    expect(
      missingPackages(lockfile, {
        packages: { 'node_modules/zod': { version: '4.6.7' }, 'node_modules/vitest': { version: '5.1.2' } },
      }),
    ).toEqual([]);
  });
});
