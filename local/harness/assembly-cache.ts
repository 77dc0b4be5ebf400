import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceHash } from '../synth.ts';

/**
 * One synth per stack shape for the e2e files and benchmarks, not one per file. Synthesizing the dev stack
 * bundles its ~23 functions with esbuild and runs cdk-nag: 25 s on an idle 2-core machine, over a minute
 * when other files run beside it — each e2e file paid it before it booted its local cloud, although only the
 * sandbox URLs (their port) differ between two of them.
 *
 * The stack is synthesized once with `PORT_PLACEHOLDER` standing for the port, into a directory named
 * after the hash of everything that shapes it (the sources `npm start`'s synth cache hashes, plus the
 * caller's key); each caller gets a directory of its own holding the template with its port put in and
 * links to the cached assets (the bundles are the same whatever the port: the URLs reach the functions as
 * environment variables, in the template). Across processes (vitest's workers) the first one synthesizes
 * while the others wait for it; a later run with unchanged sources synthesizes nothing.
 */

const projectDir = fileURLToPath(new URL('../..', import.meta.url));
/** A port no caller gets (freePortRange stays below 65533): replaced by the caller's in the template. */
export const PORT_PLACEHOLDER = 65_535;
/** Where the synthesized assemblies are kept (OMNIHUB_ASSEMBLY_CACHE moves it). */
const cacheRoot = () => process.env.OMNIHUB_ASSEMBLY_CACHE ?? join(tmpdir(), 'omnihub-assemblies');
/** Entries unused for this long are removed when a new one is written. */
const EVICT_AFTER_MS = 24 * 3600_000;
/** A lock older than this was left by a synth that died: taken over. */
const STALE_LOCK_MS = 10 * 60_000;

export interface CachedAssembly {
  /** A fresh directory of the caller's own: its template may be edited, it is removed with `rmSync`. */
  readonly dir: string;
  readonly stackName: string;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The assembly `synth(outdir, placeholderUrl)` writes, for `port`: synthesized at most once per `key` and
 * sources. `synth` must put the URL it is given (`http://127.0.0.1:<PORT_PLACEHOLDER>`) wherever the port
 * belongs; `extraSources` are paths (relative to the project) beyond the app's own that shape the stack.
 */
export function cachedAssembly(options: {
  readonly key: Readonly<Record<string, unknown>>;
  /** The caller's port, put where the placeholder stands; none when the stack holds no port of the caller's. */
  readonly port?: number;
  readonly synth: (outdir: string, placeholderUrl: string) => { stackName: string };
  readonly extraSources?: readonly string[];
}): CachedAssembly {
  const placeholder = `127.0.0.1:${PORT_PLACEHOLDER}`;
  const hash = createHash('sha256')
    .update(
      sourceHash(projectDir, 'dev', {
        cacheKey: JSON.stringify(options.key),
        // infra/app.ts puts them in the stack's env (account, region): another value, another synth.
        account: process.env.CDK_DEFAULT_ACCOUNT ?? '',
        region: process.env.CDK_DEFAULT_REGION ?? '',
      }),
    )
    .update(extraSourcesHash(['local/harness/assembly-cache.ts', ...(options.extraSources ?? [])]))
    .digest('hex')
    .slice(0, 24);
  const root = cacheRoot();
  mkdirSync(root, { recursive: true });
  const entry = join(root, hash);
  const lock = `${entry}.lock`;
  const deadline = Date.now() + STALE_LOCK_MS;
  while (!existsSync(join(entry, 'stack-name'))) {
    if (tryLock(lock)) {
      try {
        if (!existsSync(join(entry, 'stack-name')))
          synthInto(entry, options.synth, `http://${placeholder}`, options.port !== undefined);
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
      break;
    }
    if (Date.now() > deadline) throw new Error(`assembly cache: ${lock} held for over ${STALE_LOCK_MS} ms`);
    sleepSync(250);
  }
  const now = new Date();
  utimesSync(entry, now, now);

  const stackName = readFileSync(join(entry, 'stack-name'), 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'omnihub-assembly-'));
  for (const name of readdirSync(entry)) {
    if (name.startsWith('asset.')) symlinkSync(join(entry, name), join(dir, name), 'dir');
  }
  const template = readFileSync(join(entry, `${stackName}.template.json`), 'utf8');
  writeFileSync(
    join(dir, `${stackName}.template.json`),
    options.port === undefined ? template : template.replaceAll(placeholder, `127.0.0.1:${options.port}`),
  );
  return { dir, stackName };
}

function extraSourcesHash(paths: readonly string[]): string {
  const hash = createHash('sha256');
  const walk = (path: string): void => {
    const full = join(projectDir, path);
    if (statSync(full).isDirectory()) {
      for (const name of readdirSync(full).sort()) walk(join(path, name));
    } else hash.update(`${path}\n`).update(readFileSync(full));
  };
  for (const path of paths) walk(path);
  return hash.digest('hex');
}

/** A lock directory (mkdir is atomic); one left by a synth that died long ago is taken over. */
function tryLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
    } catch {
      // Released meanwhile.
    }
    return false;
  }
}

function synthInto(
  entry: string,
  synth: (outdir: string, placeholderUrl: string) => { stackName: string },
  placeholderUrl: string,
  placeholderExpected: boolean,
): void {
  evictOldEntries();
  const building = `${entry}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const { stackName } = synth(building, placeholderUrl);
  const template = readFileSync(join(building, `${stackName}.template.json`), 'utf8');
  // The placeholder must stand where the port does: a template without it would run against no sandbox.
  if (placeholderExpected && !template.includes(placeholderUrl.replace('http://', '')))
    throw new Error(`assembly cache: the synthesized ${stackName} does not use ${placeholderUrl}`);
  writeFileSync(join(building, 'stack-name'), stackName);
  rmSync(entry, { recursive: true, force: true });
  renameSync(building, entry);
}

function evictOldEntries(): void {
  for (const name of readdirSync(cacheRoot())) {
    const path = join(cacheRoot(), name);
    try {
      if (Date.now() - statSync(path).mtimeMs > EVICT_AFTER_MS)
        rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}
