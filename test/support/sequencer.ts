import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Roughly how many seconds each e2e file takes in a clean-clone CI run on the 2-core machine (two files at a
 * time; session 5's CI run and this session's, rounded): the order they start in. A clean clone has no vitest results cache, so vitest would order them by file size
 * — the chaos file, the longest by far and the smallest file, started last and ran alone at the end of the
 * run. Longest first keeps both workers busy to the end (the unit and infra files fill the gaps). A file not
 * listed starts after these, in vitest's order; the numbers only order, they do not need to be exact.
 */
export const E2E_SECONDS: Readonly<Record<string, number>> = {
  'chaos.test.ts': 260,
  'local-cloud-restart.test.ts': 150,
  'order-capture.test.ts': 93,
  'bopis.test.ts': 90,
  'pos-capture.test.ts': 90,
  'finance.test.ts': 80,
  'reconcile.test.ts': 71,
  'returns.test.ts': 62,
  'newcomer.test.ts': 60,
  'local-cloud-ops.test.ts': 57,
  'order-lines.test.ts': 49,
  'ops-replay.test.ts': 47,
  'local-cloud.test.ts': 45,
  'pos-ingress.test.ts': 43,
  'local-cloud-iam.test.ts': 37,
  'inventory.test.ts': 32,
  'privacy.test.ts': 29,
};

/**
 * Starts the e2e files first, longest first (E2E_SECONDS), then the rest in vitest's order (longest first
 * when a previous run is cached, largest first on a clean clone). An e2e file spends most of its time waiting
 * on the local cloud (retry backoffs, an ERP outage, a schedule), so it overlaps best with the CPU-bound files
 * when it starts at once; started last, it would add its whole duration to the run.
 */
export class E2eFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const e2eName = (file: TestSpecification) => /[\\/]test[\\/]e2e[\\/]([^\\/]+)$/.exec(file.moduleId)?.[1];
    const weight = (file: TestSpecification) => E2E_SECONDS[e2eName(file) ?? ''] ?? 0;
    const e2e = sorted.filter((file) => e2eName(file) !== undefined);
    // A stable sort: files of equal (or no) weight keep vitest's order.
    e2e.sort((a, b) => weight(b) - weight(a));
    return [...e2e, ...sorted.filter((file) => e2eName(file) === undefined)];
  }
}
