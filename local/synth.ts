import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

/** Version of the synth command itself (2: `-c` context passed to the app). */
const CACHE_FORMAT = 2;

const INPUTS = [
  'infra',
  'functions',
  'shared',
  'state-machines',
  'package-lock.json',
  'cdk.json',
  'tsconfig.json',
  'package.json',
];

function files(root: string, path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (statSync(full).isFile()) return [path];
  return readdirSync(full)
    .sort()
    .flatMap((name) => files(root, join(path, name)));
}

/** Hash of everything that shapes the synthesized template and bundles. */
export function sourceHash(
  projectDir: string,
  environment: string,
  context: Readonly<Record<string, string>> = {},
): string {
  // Bump when what the synth does changes, so that older cached assemblies are not reused.
  const hash = createHash('sha256').update(
    `format=${CACHE_FORMAT}\nenv=${environment}\n${JSON.stringify(context)}\n`,
  );
  for (const file of INPUTS.flatMap((input) => files(projectDir, input))) {
    hash
      .update(`${relative(projectDir, join(projectDir, file))}\n`)
      .update(readFileSync(join(projectDir, file)));
  }
  return hash.digest('hex');
}

/**
 * The cloud assembly directory of one stack and context under `root` (`.local/cdk.out/Omnihub-dev-<hash>`):
 * two local clouds with different context (another `PORT` puts other sandbox URLs in the template) keep a
 * synth each instead of overwriting one another's assembly while it runs.
 */
export function synthCacheDir(
  root: string,
  stackName: string,
  context: Readonly<Record<string, string>> = {},
): string {
  const key = createHash('sha256').update(JSON.stringify(context)).digest('hex').slice(0, 10);
  return join(root, `${stackName}-${key}`);
}

/**
 * `cdk synth -c env=<environment>` into `outDir`, skipped when the sources are unchanged since the last
 * synth (the hash is kept beside the assembly). Runs the CDK CLI with this Node, no Docker.
 */
export async function synthesize(options: {
  projectDir: string;
  outDir: string;
  environment: string;
  /** Extra `-c key=value` context (e.g. the ERP base URL pointing at the local sandbox). */
  context?: Readonly<Record<string, string>>;
  force?: boolean;
}): Promise<{ cached: boolean; ms: number }> {
  const started = Date.now();
  const hash = sourceHash(options.projectDir, options.environment, options.context);
  const marker = join(options.outDir, '.omnihub-source-hash');
  if (!options.force && existsSync(marker) && readFileSync(marker, 'utf8') === hash) {
    return { cached: true, ms: Date.now() - started };
  }
  const require = createRequire(join(options.projectDir, 'package.json'));
  const cdk = require.resolve('aws-cdk/bin/cdk');
  const tsx = require.resolve('tsx/cli');
  const output: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        cdk,
        'synth',
        '--app',
        `"${process.execPath}" "${tsx}" infra/app.ts`,
        '-c',
        `env=${options.environment}`,
        ...Object.entries(options.context ?? {}).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
        '--quiet',
        '-o',
        options.outDir,
      ],
      {
        cwd: options.projectDir,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
      },
    );
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`cdk synth failed (exit ${code}):\n${Buffer.concat(output).toString()}`);
  writeFileSync(marker, hash);
  return { cached: false, ms: Date.now() - started };
}
