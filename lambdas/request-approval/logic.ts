import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { RunSchema } from '../shared/run';
import { defineStep } from '../shared/step';
import { renderTemplate } from '../notify/templates';

const InputSchema = z
  .object({
    run: RunSchema,
    taskToken: z.string().min(1),
    /** The verification evidence the approver decides on. */
    evidence: z.record(z.string(), z.unknown()),
  })
  .strict();

/**
 * The manual approval before trading resumes: the approvers get the verification evidence
 * and the task token to answer with (SendTaskSuccess to approve, SendTaskFailure with
 * error `ApprovalRejected` to reject). The state machine waits on the token.
 */
export const requestApprovalStep = defineStep({
  name: 'request-approval',
  input: InputSchema,
  async run({ run, taskToken, evidence }, deps: Pick<DrDependencies, 'notifier' | 'runRecords'>, clock) {
    const message = renderTemplate('approval-requested', run, { ...evidence, answerWith: { taskToken } });
    if (run.dryRun) {
      return {
        action: 'dry-run' as const,
        observed: {},
        changes: ['would ask the approvers to approve or reject resumption of trading'],
        result: { messageId: null as string | null },
      };
    }
    const sent = await deps.notifier.notify({
      template: 'approval-requested',
      ...message,
      // Each attempt of the approval state has its own token: a new token must reach the approvers.
      dedupeKey: `${run.runId}#approval-requested#${createHash('sha256').update(taskToken).digest('hex').slice(0, 16)}`,
      attributes: { runId: run.runId, mode: run.mode },
    });
    await deps.runRecords.append(run.runId, {
      kind: 'approval.requested',
      at: clock.now().toISOString(),
      data: { messageId: sent.messageId },
    });
    return {
      action: sent.alreadyDone ? ('no-op' as const) : ('changed' as const),
      observed: {},
      changes: sent.alreadyDone ? [] : ['asked the approvers to approve or reject resumption of trading'],
      result: { messageId: sent.messageId },
    };
  },
});

/** What an approver sends back with SendTaskSuccess. */
export const ApprovalDecisionSchema = z
  .object({
    approved: z.literal(true),
    approvedBy: z.string().min(1),
    comment: z.string().optional(),
    at: z.string().datetime({ offset: true }),
  })
  .strict();
export type ApprovalDecision = z.infer<typeof ApprovalDecisionSchema>;
export const APPROVAL_REJECTED_ERROR = 'ApprovalRejected';
