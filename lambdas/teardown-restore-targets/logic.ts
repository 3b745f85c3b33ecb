import * as z from 'zod';
import type { BackupValidationDependencies } from '../shared/backup-validation/dependencies';
import { defineStep } from '../shared/step';

const InputSchema = z.object({ runId: z.string().min(1) }).strict();

/**
 * Tears down every disposable target of the run — on success and on every failure path —
 * and proves it by looking again: no process, data directory or object of the run is left.
 * Idempotent: a second teardown finds nothing and says so.
 */
export const teardownRestoreTargetsStep = defineStep({
  name: 'teardown-restore-targets',
  input: InputSchema,
  async run({ runId }, deps: Pick<BackupValidationDependencies, 'restoreTargets'>) {
    const report = await deps.restoreTargets.teardown(runId);
    const left = [
      ...report.leftBehind.processes,
      ...report.leftBehind.dataDirectories,
      ...report.leftBehind.objects,
    ];
    return {
      action: report.alreadyDone ? ('no-op' as const) : ('changed' as const),
      observed: { leftBehind: report.leftBehind },
      changes: report.removed,
      result: {
        clean: left.length === 0,
        removed: report.removed,
        leftBehind: report.leftBehind,
        check: {
          check: 'teardown',
          store: 'all' as const,
          passed: left.length === 0,
          reason:
            left.length === 0
              ? `nothing of run ${runId} is left (${report.removed.length} thing(s) removed)`
              : `left behind after teardown: ${left.join(', ')}`,
          figures: { removed: report.removed, leftBehind: report.leftBehind },
        },
      },
    };
  },
});
