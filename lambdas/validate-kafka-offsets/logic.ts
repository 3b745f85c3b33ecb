import * as z from 'zod';
import type { BackupValidationDependencies } from '../shared/backup-validation/dependencies';
import {
  checkOffsetParity,
  checkSequenceGaps,
  type ValidationCheck,
} from '../shared/backup-validation/checks';
import { BackupValidationRunSchema } from '../shared/backup-validation/run';
import { defineStep } from '../shared/step';

const InputSchema = z.object({ run: BackupValidationRunSchema, backupId: z.string().min(1) }).strict();

/**
 * Kafka has nothing to restore: the recorded offsets are checked (every critical group's
 * translated offsets on the secondary within tolerance of the primary's), and a window of the
 * mirrored topics is replayed on the secondary to prove the load generator's sequence numbers
 * have no gap.
 */
export const validateKafkaOffsetsStep = defineStep({
  name: 'validate-kafka-offsets',
  input: InputSchema,
  async run({ run, backupId }, deps: Pick<BackupValidationDependencies, 'backupReader' | 'mirrorReplay'>) {
    const { manifest } = await deps.backupReader.loadVerifiedManifest({ kind: 'kafka-offsets', backupId });
    const kafka = manifest.kafka!;
    const tolerance = run.kafka.toleranceMessages ?? kafka.offsetLagMax;
    const checks: ValidationCheck[] = [];
    let started = Date.now();
    checks.push({ ...checkOffsetParity(kafka, tolerance), durationMs: Date.now() - started });
    started = Date.now();
    const topics = kafka.criticalTopics.map((t) => `${kafka.sourceAlias}.${t}`);
    const replay = deps.mirrorReplay(kafka.secondaryRegion);
    try {
      const window = await replay.replay({
        topics,
        windowSeconds: run.kafka.windowSeconds,
        maxRecords: run.kafka.maxRecords,
      });
      checks.push({ ...checkSequenceGaps(window, topics), durationMs: Date.now() - started });
    } catch (err) {
      if ((err as Error).name !== 'MirroredTopicMissingError') throw err;
      checks.push({
        check: 'kafka.sequence-gaps',
        store: 'kafka',
        passed: false,
        reason: (err as Error).message,
        figures: { topics },
        durationMs: Date.now() - started,
      });
    } finally {
      await replay.close();
    }
    return {
      action: 'observed' as const,
      observed: { backupId, failed: checks.filter((c) => !c.passed).map((c) => c.check) },
      changes: [],
      result: { passed: checks.every((c) => c.passed), checks },
    };
  },
});
