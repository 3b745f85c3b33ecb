import type { BackupValidationDependencies } from '../shared/backup-validation/dependencies';
import {
  restoredArchiveCheck,
  checkRedisDigests,
  checkRedisKeyCount,
  checkRestoreTime,
  type ValidationCheck,
} from '../shared/backup-validation/checks';
import { RestoredRedisSchema, restoredTargetInput } from '../shared/backup-validation/step-inputs';
import { defineStep } from '../shared/step';

/** Proves a canary Redis restore: within the RTO objective, the manifest's key count, and every key's digest. */
export const validateRedisRestoreStep = defineStep({
  name: 'validate-redis-restore',
  input: restoredTargetInput(RestoredRedisSchema),
  async run(
    { run, backupId, target },
    deps: Pick<BackupValidationDependencies, 'backupReader' | 'restoredRedis'>,
  ) {
    const { manifest } = await deps.backupReader.loadVerifiedManifest({ kind: 'redis', backupId });
    const expected = manifest.redis!;
    const checks: ValidationCheck[] = [
      checkRestoreTime('redis', target.restoreMs, run.objectives.redis.rtoSeconds),
      ...restoredArchiveCheck('redis', manifest, target.details),
    ];
    const inspector = deps.restoredRedis(target);
    try {
      let started = Date.now();
      checks.push({
        ...checkRedisKeyCount(expected.keyCount, await inspector.dbsize()),
        durationMs: Date.now() - started,
      });
      started = Date.now();
      checks.push({
        ...checkRedisDigests(expected.keys, await inspector.digests()),
        durationMs: Date.now() - started,
      });
    } finally {
      await inspector.close();
    }
    return {
      action: 'observed' as const,
      observed: { target: target.targetId, failed: checks.filter((c) => !c.passed).map((c) => c.check) },
      changes: [],
      result: { passed: checks.every((c) => c.passed), checks },
    };
  },
});
