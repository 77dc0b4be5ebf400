/**
 * Stands in for `semver` in the function bundles only (esbuild alias in infra/constructs/bundling.ts).
 * Its one user there is aws-xray-sdk-core's `captureAWS`, the AWS SDK v2 patcher, which compares
 * `AWS.VERSION` with `semver.gte`; the hub traces SDK v3 clients (`captureAWSv3Client`) and never calls
 * it. 29 KB of semver for that one comparison: this `gte` compares plain `x.y.z` versions as semver does
 * (pre-release tags count as lower), which is all that call needs.
 */
const parts = (version: string): { core: number[]; pre: boolean } => {
  const [core = '', pre] = version.trim().replace(/^v/, '').split('-', 2);
  return { core: core.split('.').map((n) => Number.parseInt(n, 10) || 0), pre: pre !== undefined };
};

export function gte(a: string, b: string): boolean {
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.core[i] ?? 0) - (y.core[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return !x.pre || y.pre;
}

export default { gte };
