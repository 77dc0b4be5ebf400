#!/usr/bin/env node
// `npm start` and `npm test` on a fresh clone: runs under whatever Node >= 20 the machine has, installs
// the locked dependencies once (`npm ci`, which also brings the pinned Node 24 as the `node`
// devDependency), checks Java for DynamoDB Local, then runs the command on the pinned Node.
// Plain JavaScript with no dependency: nothing is installed yet when it starts.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'node_modules', '.bin');
const say = (message) => console.error(`omnihub: ${message}`);

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  say(
    `Node.js ${process.versions.node} is too old to bootstrap: install Node.js 20 or newer (the project then brings its own Node 24).`,
  );
  process.exit(1);
}

/** Packages of package-lock.json that node_modules lacks or holds at another version. */
export function missingPackages(lockfile, installed) {
  const wanted = lockfile.packages ?? {};
  const have = installed?.packages ?? {};
  return (
    Object.entries(wanted)
      // Optional packages are platform-specific (esbuild's binaries): absent on other platforms by design.
      .filter(([path, entry]) => path !== '' && !entry.optional && !entry.link)
      .filter(([path, entry]) => have[path]?.version !== entry.version)
      .map(([path]) => path.replace(/^node_modules\//, ''))
  );
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function ensureDependencies() {
  const lockfile = readJson(join(root, 'package-lock.json'));
  // npm keeps what it installed in node_modules/.package-lock.json.
  const installed = readJson(join(root, 'node_modules', '.package-lock.json'));
  const missing = lockfile ? missingPackages(lockfile, installed) : [];
  if (installed && missing.length === 0 && existsSync(join(bin, 'node'))) return;
  say(
    installed
      ? `dependencies out of date (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}): npm ci`
      : 'first run: installing the locked dependencies (npm ci, about a minute)',
  );
  const windows = process.platform === 'win32';
  const npm = windows ? 'npm.cmd' : 'npm';
  // Under Node 20 npm warns that Node-24-only packages need another engine: expected (they run on the
  // pinned Node 24 installed here), so only errors are printed.
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: 'inherit',
    // .cmd shims run only through the shell on Windows (Node ≥ 18.20.2 / 20.12.2 refuse them otherwise).
    shell: windows,
  });
  if (result.status !== 0) {
    say(
      `npm ci failed (${result.error ? result.error.message : 'see above'}); fix it, then run the command again`,
    );
    process.exit(result.status ?? 1);
  }
}

/** The exact command that installs a Java runtime for DynamoDB Local on this platform. */
export function javaInstallHint(platform = process.platform, debian = existsSync('/etc/debian_version')) {
  if (platform === 'darwin') return 'brew install openjdk@17';
  if (platform === 'win32') return 'winget install Microsoft.OpenJDK.17';
  if (debian) return 'sudo apt-get update && sudo apt-get install -y openjdk-17-jre-headless';
  if (existsSync('/etc/redhat-release')) return 'sudo dnf install -y java-17-openjdk-headless';
  return 'install a Java runtime 17 or newer (e.g. your distribution’s openjdk-17 package)';
}

/** Java's major version, or undefined when no `java` runs. */
export function javaMajor(output) {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output ?? '');
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 ? Number(match[2]) : first;
}

function ensureJava() {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const version = probe.error ? undefined : javaMajor(`${probe.stderr}${probe.stdout}`);
  if (version !== undefined && version >= 17) return;
  say(
    `DynamoDB Local needs Java 17 or newer (${version === undefined ? 'no java found' : `found Java ${version}`}). Install it with:\n\n    ${javaInstallHint()}\n\nthen run the command again.`,
  );
  process.exit(1);
}

/** True when this file is the script node was asked to run (paths with spaces, links and Windows too). */
const isMain = () => {
  try {
    return Boolean(process.argv[1]) && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
};

if (isMain()) {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    say('usage: node scripts/bootstrap.mjs <command> [args…]');
    process.exit(2);
  }
  ensureDependencies();
  ensureJava();
  // node_modules/.bin first: `node` there is the pinned Node 24 that tsx and vitest then run on.
  const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
  const child = spawn(join(bin, command), args, {
    cwd: process.cwd(),
    stdio: 'inherit',
    env,
    shell: process.platform === 'win32',
  });
  // Ctrl-C reaches the whole foreground process group, the child included: passing SIGINT on as well
  // would be a second Ctrl-C, which a program may take as "force quit" — so this process only waits.
  // A SIGTERM or SIGHUP sent to this process alone (npm forwards SIGTERM) is passed on. `npm start` runs
  // `node --import tsx` (one process), not tsx's CLI, whose signal relay kills a busy child (local/cli.ts).
  process.on('SIGINT', () => {});
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    say(`could not run ${command}: ${error.message}`);
    process.exit(1);
  });
  // A child ended by a signal exits as a shell reports it: 128 + the signal's number (130 for SIGINT).
  child.on('exit', (code, signal) =>
    process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)),
  );
}
