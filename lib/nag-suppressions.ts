import { Validations, type CfnElement } from 'aws-cdk-lib';
import type { OrchestratorStack } from './orchestrator-stack';
import {
  BACKUP_KEY_PREFIX,
  BACKUP_VALIDATION_KEY_PREFIX,
  EVIDENCE_KEY_PREFIX,
  FEATURE_SNAPSHOT_KEY_PREFIX,
  RESTORE_TARGET_ID_PREFIX,
  STEP_CAPABILITIES,
} from './step-capabilities';
import type { StepFunctionName } from '../lambdas/registry';
import type { DrStepFunction } from './dr-step-function';

/**
 * Every cdk-nag AwsSolutions finding the orchestrator accepts, each acknowledged on the
 * narrowest construct, for one named finding (IAM5 `[Resource::…]`) where cdk-nag reports
 * one, and with the reason it is acceptable. Anything not listed here fails synth.
 */
export function applyOrchestratorNagSuppressions(stack: OrchestratorStack): void {
  const logicalId = (element: unknown) => stack.getLogicalId(element as CfnElement);
  const bucketArnToken = `<${logicalId(stack.resources.evidenceBucket.node.defaultChild)}.Arn>`;

  for (const [name, step] of Object.entries(stack.steps) as [StepFunctionName, DrStepFunction][]) {
    const capabilities = STEP_CAPABILITIES[name] ?? [];
    const inVpc = Boolean(step.function.isBoundToVpc);
    Validations.of(step.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x is the runtime the project targets on purpose: the local runner (aws-local-stepfunctions 3) and the tests run the same handlers on Node 22; moving to a newer runtime is a deliberate, tested upgrade',
    });
    Validations.of(step.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        (inVpc
          ? 'AWS requires Resource "*" for X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) and for the EC2 network-interface actions Lambda uses to attach a function to the VPC (DescribeNetworkInterfaces has no resource-level permissions)'
          : 'AWS requires Resource "*" for X-Ray PutTraceSegments/PutTelemetryRecords (active tracing)') +
        (capabilities.includes('restoreValidation')
          ? ', and for backup:PutRestoreValidationResult (AWS Backup restore jobs are not an IAM resource type; the statement is limited to this region by aws:RequestedRegion)'
          : inVpc
            ? ''
            : '; no other statement of this role uses a wildcard resource'),
    });
    if (capabilities.includes('router') && stack.config.topology.dns.method === 'route53-weighted') {
      Validations.of(step.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::arn:aws:route53:::change/*]',
        reason:
          'route53:GetChange verifies the DNS cutover (INSYNC); the change id exists only once ChangeResourceRecordSets returns it, so no narrower resource can be named at deploy time',
      });
    }
    if (capabilities.includes('evidence')) {
      Validations.of(step.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucketArnToken}/${EVIDENCE_KEY_PREFIX}*]`,
        reason: `each run writes new evidence objects under ${EVIDENCE_KEY_PREFIX}<runId>/ in this region's Object Lock bucket; the keys are not known at deploy time, the prefix is the narrowest scope`,
      });
    }
    if (capabilities.includes('backupEvidence')) {
      Validations.of(step.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucketArnToken}/${BACKUP_VALIDATION_KEY_PREFIX}*]`,
        reason: `each validation writes its report under ${BACKUP_VALIDATION_KEY_PREFIX}<runId>/ in this region's Object Lock bucket; run ids are created at run time, the prefix is the narrowest scope`,
      });
    }
    if (capabilities.includes('backups')) {
      Validations.of(step.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucketArnToken}/${BACKUP_KEY_PREFIX}${stack.config.topology.application}/*]`,
        reason: `backups are written under ${BACKUP_KEY_PREFIX}${stack.config.topology.application}/<kind>/<backupId>/ with ids created at backup time; read-only, the application's prefix is the narrowest scope`,
      });
    }
    if (capabilities.includes('restoreTargets')) {
      const rds = (resource: string, name: string) =>
        `arn:aws:rds:${stack.region}:${stack.account}:${resource}:${name}`;
      for (const resource of [
        rds('db', `${RESTORE_TARGET_ID_PREFIX}*`),
        rds('cluster', `${RESTORE_TARGET_ID_PREFIX}*`),
      ]) {
        Validations.of(step.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${resource}]`,
          reason: `the temporary restore targets are named ${RESTORE_TARGET_ID_PREFIX}<hash of the run id> at run time; the prefix is reserved for them, so only what a validation created can be restored into or deleted`,
        });
      }
      for (const resource of [
        rds('snapshot', '*'),
        rds('cluster-snapshot', '*'),
        rds('og', '*'),
        rds('pg', '*'),
        rds('cluster-pg', '*'),
      ]) {
        Validations.of(step.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${resource}]`,
          reason:
            'a restore names the snapshot the backup manifest records (created by the backup schedule, ids unknown at deploy time) and RDS evaluates the restore against the option and parameter groups the snapshot carries; only the Restore and Describe actions apply to these, in this region and account',
        });
      }
    }
    if (capabilities.includes('redisSnapshots')) {
      Validations.of(step.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucketArnToken}/${FEATURE_SNAPSHOT_KEY_PREFIX}*]`,
        reason: `the Redis hydration reads the latest feature snapshot under ${FEATURE_SNAPSHOT_KEY_PREFIX}<snapshotId>/; snapshot ids are created at run time, the prefix is the narrowest scope (read-only)`,
      });
    }
  }

  for (const workflow of Object.values(stack.workflows)) {
    Validations.of(workflow.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'AWS requires Resource "*" for the CloudWatch Logs vended-log delivery actions Step Functions uses to write execution logs (logs:CreateLogDelivery, GetLogDelivery, …) and for X-Ray tracing; the Lambda invoke statement names each step function',
    });
  }

  for (const stateMachine of stack.approval.stateMachines) {
    const stateMachineName = `<${logicalId(stateMachine.node.defaultChild)}.Name>`;
    Validations.of(stack.approval.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:aws:states:${stack.region}:${stack.account}:execution:${stateMachineName}:*]`,
      reason:
        "approvers read (DescribeExecution, GetExecutionHistory) only the executions of this region's workflows that wait for an approval; execution names are generated per run",
    });
  }

  if (stack.trigger) {
    Validations.of(stack.trigger.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'this queue is itself the dead-letter queue of the EventBridge failover trigger (cdk-nag only recognises SQS-to-SQS redrive); its depth is alarmed',
    });
  }

  if (stack.backupValidationSchedule) {
    Validations.of(stack.backupValidationSchedule.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'this queue is itself the dead-letter queue of the EventBridge Scheduler backup-validation schedule (cdk-nag only recognises SQS-to-SQS redrive); its depth is alarmed',
    });
  }
}
