import type { Run } from '../shared/run';

export const TEMPLATE_NAMES = [
  'incident-declared',
  'approval-requested',
  'trading-resumed',
  'approval-rejected',
  'approval-timed-out',
  'rpo-gate-stopped',
  'verification-failed',
  'run-failed',
  'failback-declared',
  'failback-refused',
  'failback-complete',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export interface RenderedNotification {
  subject: string;
  body: string;
  severity: 'info' | 'warning' | 'sev1';
}

const label = (run: Run) =>
  run.mode === 'failover' ? 'SEV-1 FAILOVER' : run.mode === 'drill' ? 'DR DRILL' : 'DR DRY RUN';

/**
 * The runbook's pre-approved notifications (compliance, customer success, approvers). The
 * wording is fixed here so that what reaches people and regulators is reviewed once.
 */
export function renderTemplate(
  template: TemplateName,
  run: Run,
  details: Record<string, unknown> = {},
): RenderedNotification {
  const route = `${run.sourceRegion} → ${run.targetRegion}`;
  const who =
    run.trigger.kind === 'alarm'
      ? `alarm ${run.trigger.alarmName}`
      : `${run.trigger.kind} (${run.trigger.requestedBy})`;
  const facts = Object.keys(details).length > 0 ? `\n\nDetails:\n${JSON.stringify(details, null, 2)}` : '';
  const header = `Run ${run.runId} · ${run.application} · ${route} · started by ${who} at ${run.declaredAt}`;
  switch (template) {
    case 'incident-declared':
      return {
        subject: `[${label(run)}] ${run.application}: disaster recovery declared, ${route}`,
        body: `${header}\n\nA disaster-recovery run has started. Deployments are frozen and new orders will be paused while data stores are promoted in ${run.targetRegion}. Compliance and customer success: follow the DR communication plan.${facts}`,
        severity: run.mode === 'failover' ? 'sev1' : 'info',
      };
    case 'approval-requested':
      return {
        subject: `[${label(run)}] ${run.application}: approval needed to resume trading in ${run.targetRegion}`,
        body: `${header}\n\nPromotion and verification are complete. Review the evidence below and approve or reject resumption of trading with the task token.${facts}`,
        severity: 'warning',
      };
    case 'trading-resumed':
      return {
        subject: `[${label(run)}] ${run.application}: trading resumed in ${run.targetRegion}`,
        body: `${header}\n\nTrading has resumed in ${run.targetRegion} under incident-commander approval. Heightened monitoring is in force. Clients may be informed with the recovery confirmation template.${facts}`,
        severity: 'info',
      };
    case 'approval-rejected':
      return {
        subject: `[${label(run)}] ${run.application}: resumption REJECTED, trading stays frozen`,
        body: `${header}\n\nThe approver rejected resumption. Trading stays frozen; the incident is escalated to the incident commander.${facts}`,
        severity: 'sev1',
      };
    case 'approval-timed-out':
      return {
        subject: `[${label(run)}] ${run.application}: no approval in time, trading stays frozen`,
        body: `${header}\n\nNo approval arrived before the timeout. Trading stays frozen; escalating.${facts}`,
        severity: 'sev1',
      };
    case 'rpo-gate-stopped':
      return {
        subject: `[${label(run)}] ${run.application}: stopped before promotion, data at risk exceeds RPO`,
        body: `${header}\n\nData at risk exceeds a recovery point objective and no allowDataLoss decision was given. Nothing was promoted; trading stays frozen. To continue, start a run with an explicit allowDataLoss decision.${facts}`,
        severity: 'sev1',
      };
    case 'verification-failed':
      return {
        subject: `[${label(run)}] ${run.application}: SEV-1 verification failure, trading stays frozen`,
        body: `${header}\n\nPost-promotion verification found discrepancies. Manual broker reconciliation is required before trading resumes.${facts}`,
        severity: 'sev1',
      };
    case 'run-failed':
      return {
        subject: `[${label(run)}] ${run.application}: DR run failed, trading stays frozen`,
        body: `${header}\n\nThe DR run failed; trading stays frozen and the lock is released so the run can be re-driven.${facts}`,
        severity: 'sev1',
      };
    case 'failback-declared':
      return {
        subject: `[${label(run)}] ${run.application}: planned return to ${run.targetRegion} started`,
        body: `${header}\n\nA planned failback from ${run.sourceRegion} to ${run.targetRegion} has started. Deployments are frozen. ${run.targetRegion} is rebuilt as a replica and warmed up; trading pauses only for the staggered switchover (Kafka, then PostgreSQL, then workloads) and resumes after approval.${facts}`,
        severity: 'info',
      };
    case 'failback-refused':
      return {
        subject: `[${label(run)}] ${run.application}: failback to ${run.targetRegion} refused, replication not caught up`,
        body: `${header}\n\nThe failback did not start its switchover: replication into ${run.targetRegion} is not caught up. Nothing was switched; trading continues in ${run.sourceRegion}. Start the failback again once replication has caught up.${facts}`,
        severity: 'warning',
      };
    case 'failback-complete':
      return {
        subject: `[${label(run)}] ${run.application}: back in ${run.targetRegion}, post-failback review`,
        body: `${header}\n\nTrading runs in ${run.targetRegion} again. The post-failback review below covers replication in the new direction, the temporary throttles removed and the final incident timeline.${facts}`,
        severity: 'info',
      };
  }
}
