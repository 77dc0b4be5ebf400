/**
 * `npm run bench -- coldstart`: per function of the synthesized dev template, its bundle's bytes (the
 * `index.mjs` CDK built, source map apart) and the median / p95 of its init phase — a fresh Node 24
 * process importing the bundle with the function's environment from the template (its top-level work:
 * SDK clients, schemas, Powertools), not the handler — against a hello-world function bundled with the
 * same esbuild options in the same run (the floor). Functions are found in the template, so a new
 * function is measured without an edit here.
 *
 * `COLDSTART_RUNS` (default 25, at least 20) sets the runs per function; they are interleaved across the
 * functions so that a noisy moment on the machine spreads over all of them. `COLDSTART_ONLY=<text>`
 * measures only the functions whose name contains it (and the floor).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { esbuildOptions, TARGET_BUNDLE_BYTES } from '#infra/constructs/bundling.ts';
import { synthesize } from '#local/synth.ts';
import { type LocalResource, type LocalTemplate, loadTemplate } from '#local/template.ts';

const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Math.max(20, Number(process.env.COLDSTART_RUNS ?? 25));
/** Init-phase budget per function (issue #17): the median must stay under it. */
export const MAX_INIT_MEDIAN_MS = 150;

/** The pinned Node 24 (the `node` dev dependency), whatever Node runs this script. */
function node24(): string {
  if (process.versions.node.startsWith('24.')) return process.execPath;
  const pinned = join(projectDir, 'node_modules', '.bin', 'node');
  if (!existsSync(pinned)) throw new Error('the pinned Node 24 is missing: run npm test or npm start once');
  return pinned;
}

export interface Measured {
  readonly bytes: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  /** Median CPU time (user + system) of the same runs: what the init costs without the waits for a core. */
  readonly cpuMedianMs: number;
}

/** Nearest-rank percentile of `values` (0 < p ≤ 1). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}

interface Subject {
  readonly name: string;
  readonly module: string;
  readonly environment: Readonly<Record<string, string>>;
}

/** `Omnihub-dev/ShopifyIngress/ShopifyWebhookFunction/Resource` → `ShopifyIngress/ShopifyWebhookFunction`. */
function nameOf(resource: LocalResource): string {
  const path = resource.metadata['aws:cdk:path'];
  return typeof path === 'string' ? path.split('/').slice(1, -1).join('/') : resource.logicalId;
}

/** The hub's functions (every `HubFunction` sets `POWERTOOLS_SERVICE_NAME`; CDK's own helpers do not). */
function subjects(template: LocalTemplate): Subject[] {
  return template.ofType('AWS::Lambda::Function').flatMap((resource) => {
    const variables = ((resource.properties.Environment as { Variables?: Record<string, unknown> })
      ?.Variables ?? {}) as Record<string, unknown>;
    if (variables.POWERTOOLS_SERVICE_NAME === undefined) return [];
    const asset = resource.metadata['aws:asset:path'];
    const module = join(template.assemblyDir, String(asset), 'index.mjs');
    if (!existsSync(module)) throw new Error(`${resource.logicalId}: no bundle at ${module}`);
    return [
      {
        name: nameOf(resource),
        module,
        environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
      },
    ];
  });
}

/** What the Lambda runtime sets around a function's own variables (no credentials are used at init). */
function lambdaEnvironment(name: string, own: Readonly<Record<string, string>>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: name.replaceAll('/', '-'),
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    _HANDLER: 'index.handler',
    ...own,
  };
}

function once(
  node: string,
  module: string,
  environment: Record<string, string>,
): Promise<{ ms: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [fileURLToPath(new URL('./coldstart/probe.mjs', import.meta.url)), module], {
      env: { ...environment, NODE_OPTIONS: '', LAMBDA_TASK_ROOT: dirname(module) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${module}: init failed (exit ${code}): ${err.slice(0, 2000)}`));
      else resolve(JSON.parse(out) as { ms: number; cpuMs: number });
    });
  });
}

export async function run(): Promise<Record<string, unknown>> {
  const outDir = join(projectDir, '.local', 'cdk.out', 'bench-coldstart');
  const synth = await synthesize({ projectDir, outDir, environment: 'dev' });
  console.error(
    `coldstart: ${synth.cached ? 'cached synth' : `synthesized in ${(synth.ms / 1000).toFixed(1)} s`}`,
  );
  const template = loadTemplate(outDir, 'Omnihub-dev', {
    sqsEndpoint: 'http://127.0.0.1:9324',
    apiEndpoint: 'http://127.0.0.1:3000',
  });
  const floorDir = mkdtempSync(join(tmpdir(), 'omnihub-coldstart-'));
  const floorModule = join(floorDir, 'index.mjs');
  await build(esbuildOptions(fileURLToPath(new URL('./coldstart/floor.ts', import.meta.url)), floorModule));
  const only = process.env.COLDSTART_ONLY;
  const all: Subject[] = [
    ...subjects(template).filter((subject) => !only || subject.name.includes(only)),
    { name: '(floor: hello world)', module: floorModule, environment: {} },
  ];
  const node = node24();
  const samples = new Map<string, number[]>(all.map((s) => [s.name, []]));
  const cpuSamples = new Map<string, number[]>(all.map((s) => [s.name, []]));
  for (let round = 0; round < RUNS; round++) {
    for (const subject of all) {
      const { ms, cpuMs } = await once(
        node,
        subject.module,
        lambdaEnvironment(subject.name, subject.environment),
      );
      samples.get(subject.name)?.push(ms);
      cpuSamples.get(subject.name)?.push(cpuMs);
    }
  }
  const measured = (subject: Subject): Measured => {
    const values = samples.get(subject.name) ?? [];
    return {
      bytes: statSync(subject.module).size,
      medianMs: Number(percentile(values, 0.5).toFixed(1)),
      p95Ms: Number(percentile(values, 0.95).toFixed(1)),
      cpuMedianMs: Number(percentile(cpuSamples.get(subject.name) ?? [], 0.5).toFixed(1)),
    };
  };
  const floor = measured(all.at(-1) as Subject);
  const functions = Object.fromEntries(all.slice(0, -1).map((s) => [s.name, measured(s)]));
  for (const [name, m] of Object.entries(functions)) {
    const over = [
      m.bytes > TARGET_BUNDLE_BYTES ? `bundle ${m.bytes} B > ${TARGET_BUNDLE_BYTES} B` : '',
      m.medianMs > MAX_INIT_MEDIAN_MS ? `init median ${m.medianMs} ms > ${MAX_INIT_MEDIAN_MS} ms` : '',
    ].filter(Boolean);
    console.error(
      `${name.padEnd(48)} ${(m.bytes / 1024).toFixed(0).padStart(5)} KB  init median ${m.medianMs} ms  p95 ${m.p95Ms} ms  cpu ${m.cpuMedianMs} ms${over.length ? `  OVER: ${over.join(', ')}` : ''}`,
    );
  }
  console.error(`floor (hello world, ${floor.bytes} B) median ${floor.medianMs} ms, ${RUNS} runs each`);
  const worstRatio = Math.max(...Object.values(functions).map((m) => m.medianMs / floor.medianMs));
  return { functions, floorMs: floor.medianMs, worstRatio: Number(worstRatio.toFixed(1)), runs: RUNS };
}
