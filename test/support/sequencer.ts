import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Starts the e2e files first, then the rest in vitest's order (longest first when a previous run is
 * cached, largest first on a clean clone). An e2e file spends most of its time waiting on the local
 * cloud (retry backoffs, an ERP outage), so it overlaps best with the CPU-bound files when it starts
 * at once; started last, it would add its whole duration to the run.
 */
export class E2eFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isE2e = (file: TestSpecification) => /[\\/]test[\\/]e2e[\\/]/.test(file.moduleId);
    return [...sorted.filter(isE2e), ...sorted.filter((file) => !isE2e(file))];
  }
}
