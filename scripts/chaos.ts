/**
 * `npm run chaos -- [--scale <s>] [--seed <n>]`: bench/chaos.ts at the sizes (`--scale 1`, the
 * default; about 30 minutes on a 2-core machine) or a fraction of them. On a shared machine run it at a
 * small scale (`--scale 0.02`). Last line: the JSON figures.
 */
import { parseArgs } from 'node:util';
import { runChaos } from '../bench/chaos.ts';

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    'outage-seconds': { type: 'string', default: '30' },
    'storm-seconds': { type: 'string', default: '30' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: npm run chaos -- [--scale 1] [--seed 1] [--outage-seconds 30] [--storm-seconds 30] [--only orders,stock]\n\nEvery flow at once in the local cloud with chaos on (bench/chaos.ts); --scale 1 is the issue sizes.',
  );
  process.exit(0);
}
const scale = Number(values.scale);
if (!(scale > 0)) {
  console.error('--scale must be a number > 0');
  process.exit(2);
}
const result = await runChaos({
  scale,
  seed: Number(values.seed),
  outageMs: Number(values['outage-seconds']) * 1000,
  stormMs: Number(values['storm-seconds']) * 1000,
  // Generous: the drain of a full-scale run under an outage takes many minutes on 2 shared cores.
  settleTimeoutMs: Math.max(240_000, 3_600_000 * scale),
  log: (message) => console.error(message),
  ...(values.only ? { only: values.only.split(',') } : {}),
});
for (const flow of result.flows) console.error(`${flow.flow}: ${flow.notes.join(' | ')}`);
console.error(`not covered yet: ${result.missing.join('; ')}`);
if (result.unverified.length) console.error(`loaded but not verified: ${result.unverified.join('; ')}`);
console.log(
  JSON.stringify({
    bench: 'chaos',
    orders: result.orders,
    lost: result.lost,
    lostAtVendor: result.lostAtVendor,
    duplicated: result.duplicated,
    driftAfterHeal: result.driftAfterHeal,
    parkedUnexplained: result.parkedUnexplained,
    minutes: result.minutes,
    scale: result.scale,
    unverified: result.unverified,
    chaos: result.chaos,
  }),
);
process.exit(0);
