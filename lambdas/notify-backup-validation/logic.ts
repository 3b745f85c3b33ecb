import * as z from 'zod';
import type { BackupValidationDependencies } from '../shared/backup-validation/dependencies';
import { defineStep } from '../shared/step';

const InputSchema = z
  .object({
    runId: z.string().min(1),
    application: z.string().min(1),
    outcome: z.enum(['passed', 'failed', 'rejected']),
    summary: z.string().min(1),
    reasons: z.array(z.string()),
    evidenceKey: z.string().nullable(),
  })
  .strict();

/** Tells the on-call that a backup did not validate (SEV-1: a backup that does not restore is no backup); once per run. */
export const notifyBackupValidationStep = defineStep({
  name: 'notify-backup-validation',
  input: InputSchema,
  async run(input, deps: Pick<BackupValidationDependencies, 'notifier'>) {
    const subject = `[BACKUP VALIDATION] ${input.application}: ${input.outcome === 'passed' ? 'backups validated' : `backups FAILED validation (${input.outcome})`}`;
    const body = [
      `Run ${input.runId}: ${input.summary}`,
      '',
      ...input.reasons.map((r) => `- ${r}`),
      '',
      input.evidenceKey ? `Evidence: ${input.evidenceKey}` : 'No evidence could be archived.',
      input.outcome === 'passed'
        ? ''
        : "Until a backup validates, the runbook's restore objectives are not proven: take a new backup and investigate.",
    ].join('\n');
    const sent = await deps.notifier.notify({
      template: `backup-validation-${input.outcome}`,
      subject,
      body,
      severity: input.outcome === 'passed' ? 'info' : 'sev1',
      dedupeKey: `${input.runId}#backup-validation-${input.outcome}`,
      attributes: { runId: input.runId, kind: 'backup-validation' },
    });
    return {
      action: sent.alreadyDone ? ('no-op' as const) : ('changed' as const),
      observed: {},
      changes: sent.alreadyDone ? [] : [`sent '${subject}'`],
      result: { messageId: sent.messageId, subject },
    };
  },
});
