import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { RunSchema } from '../shared/run';
import { actionFor, defineStep } from '../shared/step';
import { TEMPLATE_NAMES, renderTemplate } from './templates';

const NotifyInputSchema = z
  .object({
    run: RunSchema,
    template: z.enum(TEMPLATE_NAMES),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** Sends one of the runbook's templates; the dedupe key (run + template) keeps re-drives from notifying twice. */
export const notifyStep = defineStep({
  name: 'notify',
  input: NotifyInputSchema,
  async run({ run, template, details }, deps: Pick<DrDependencies, 'notifier'>) {
    const message = renderTemplate(template, run, details);
    if (run.dryRun) {
      return {
        action: actionFor(true, false),
        observed: {},
        changes: [`would send '${message.subject}'`],
        result: { template, subject: message.subject, messageId: null as string | null },
      };
    }
    const sent = await deps.notifier.notify({
      template,
      ...message,
      dedupeKey: `${run.runId}#${template}`,
      attributes: { runId: run.runId, mode: run.mode },
    });
    return {
      action: actionFor(false, sent.alreadyDone),
      observed: {},
      changes: sent.alreadyDone ? [] : [`sent '${message.subject}' (${message.severity})`],
      result: { template, subject: message.subject, messageId: sent.messageId },
    };
  },
});
