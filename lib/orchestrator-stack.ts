import fs from 'node:fs';
import path from 'node:path';
import {
  Annotations,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  Tags,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { STEP_FUNCTIONS, handlerEntry, type StepFunctionName } from '../lambdas/registry';
import { ApprovalAccess } from './approval-access';
import { functionArnVariable } from './asl';
import { BackupValidationSchedule } from './backup-validation-schedule';
import { parseArn, regionDeployment, type DeploymentConfig } from './deployment-config';
import { DrDashboard } from './dr-dashboard';
import { DrRegionalResources } from './dr-regional-resources';
import { DataStoreDriverLayer } from './driver-layer';
import { DrStepFunction, PROJECT_ROOT, STEP_RUNTIME, type StepNetwork } from './dr-step-function';
import { DrWorkflow } from './dr-workflow';
import { FailoverTrigger } from './failover-trigger';
import { applyOrchestratorNagSuppressions } from './nag-suppressions';
import { STEP_CAPABILITIES, reachesDataStores } from './step-capabilities';
import { statementsFor } from './step-permissions';
import {
  DR_WORKFLOWS,
  functionTimeoutSeconds,
  selectWorkflows,
  type LoadedWorkflow,
  type SkippedWorkflow,
  type WorkflowSpec,
} from './workflows';

/** The documented input of the scheduled backup validation (the console can start it with the same JSON). */
export const BACKUP_VALIDATION_INPUT_FILE = 'events/backup-validation-schedule.json';

export function readBackupValidationInput(projectRoot: string = PROJECT_ROOT): Record<string, unknown> {
  const file = path.join(projectRoot, BACKUP_VALIDATION_INPUT_FILE);
  const input: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!input || typeof input !== 'object' || Array.isArray(input))
    throw new Error(`${file} must hold one JSON object (the execution input)`);
  return input as Record<string, unknown>;
}

export interface OrchestratorStackProps extends StackProps {
  /** The validated deployment config (lib/deployment-config.ts). */
  readonly config: DeploymentConfig;
  /** The region this orchestrator runs failovers into; the stack is deployed there. */
  readonly orchestratorRegion: string;
  /** The workflows to deploy. @default DR_WORKFLOWS (lib/workflows.ts): the failover, and the others whose files exist */
  readonly workflows?: readonly WorkflowSpec[];
  /** The backup validation's scheduled input. @default events/backup-validation-schedule.json */
  readonly backupValidationInput?: Record<string, unknown>;
  /** @default the repository root */
  readonly projectRoot?: string;
}

/**
 * The DR orchestrator of one region: every workflow of `state-machines/` (lib/workflows.ts). Static stability: it creates or names only
 * resources homed in its own region (its table, topic, bucket, key, parameters, event bus,
 * VPC); the other regions appear only inside the topology the steps receive, and in the one
 * best-effort statement that lets QuiesceTrading stop the failed region's gateway if it
 * still answers.
 */
export class OrchestratorStack extends Stack {
  readonly config: DeploymentConfig;
  readonly resources: DrRegionalResources;
  /** One function per step that a deployed workflow invokes. */
  readonly steps: Readonly<Partial<Record<StepFunctionName, DrStepFunction>>>;
  /** Every deployed workflow by its id (lib/workflows.ts). */
  readonly workflows: Readonly<Record<string, DrWorkflow>>;
  readonly loadedWorkflows: readonly LoadedWorkflow[];
  /** Optional workflows whose files exist but are not complete yet (reported as synth warnings). */
  readonly skippedWorkflows: readonly SkippedWorkflow[];
  /** The failover workflow. */
  readonly workflow: DrWorkflow;
  readonly approval: ApprovalAccess;
  readonly trigger?: FailoverTrigger;
  readonly backupValidationSchedule?: BackupValidationSchedule;
  readonly dashboard: DrDashboard;

  constructor(scope: Construct, id: string, props: OrchestratorStackProps) {
    const { config, orchestratorRegion: region } = props;
    if (props.env?.region && props.env.region !== region) {
      throw new Error(
        `OrchestratorStack ${id}: env.region ${props.env.region} differs from orchestratorRegion ${region}`,
      );
    }
    super(scope, id, {
      ...props,
      env: { account: config.account, region },
      description:
        props.description ?? `tradepulse-dr: the failover orchestrator for failovers into ${region}`,
    });
    this.config = config;
    const { topology } = config;
    const own = topology.regions[region];
    if (!own) throw new Error(`OrchestratorStack ${id}: ${region} is not one of topology.regions`);
    const settings = regionDeployment(config, region);
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    const logRetention = config.logRetentionDays as RetentionDays;

    Tags.of(this).add('application', topology.application);
    Tags.of(this).add('tradepulse-dr:orchestrator-region', region);

    this.resources = new DrRegionalResources(this, 'Regional', {
      tableName: own.aws.lockTable,
      topicName: parseArn(own.aws.snsTopicArn)!.resource,
      evidenceBucketName: own.aws.evidenceBucket,
      evidenceRetentionDays: config.evidenceRetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(settings.kmsKeyArn ? { key: Key.fromKeyArn(this, 'ConfiguredKey', settings.kmsKeyArn) } : {}),
    });

    let network: StepNetwork | undefined;
    if (settings.vpc) {
      const zones = [...new Set(settings.vpc.subnets.map((s) => s.availabilityZone))];
      network = {
        vpc: Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: settings.vpc.vpcId, availabilityZones: zones }),
        subnets: settings.vpc.subnets.map((s, i) => {
          const subnet = Subnet.fromSubnetAttributes(this, `Subnet${i}`, {
            subnetId: s.subnetId,
            availabilityZone: s.availabilityZone,
          });
          Validations.of(subnet).acknowledge({
            id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
            reason:
              'the subnets only place Lambda network interfaces; nothing here reads or changes their route tables',
          });
          return subnet;
        }),
        securityGroups: settings.vpc.securityGroupIds.map((sg, i) =>
          SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, sg, { mutable: false }),
        ),
      };
    }

    const selection = selectWorkflows(
      projectRoot,
      props.workflows ?? DR_WORKFLOWS,
      (step) => STEP_CAPABILITIES[step] !== undefined,
    );
    const workflows = selection.workflows;
    for (const { spec, reason } of selection.skipped) {
      Annotations.of(this).addWarningV2(
        `tradepulse-dr:workflow-not-deployed:${spec.id}`,
        `${spec.id} is not deployed: ${reason}`,
      );
    }
    this.skippedWorkflows = selection.skipped;
    const targets = {
      region,
      account: config.account,
      topology,
      tableArn: this.resources.table.tableArn,
      topicArn: this.resources.topic.topicArn,
      bucketArn: this.resources.evidenceBucket.bucketArn,
      keyArn: this.resources.key.keyArn,
      ...(settings.backupRestore ? { backupRestore: settings.backupRestore } : {}),
    };
    // Read by lambdas/shared/providers/restore-targets.ts.
    const restoreEnvironment: Record<string, string> = settings.backupRestore
      ? {
          BACKUP_RESTORE_SUBNET_GROUP: settings.backupRestore.dbSubnetGroupName,
          BACKUP_RESTORE_SECURITY_GROUP_IDS: settings.backupRestore.securityGroupIds.join(','),
          ...(settings.backupRestore.instanceClass
            ? { BACKUP_RESTORE_INSTANCE_CLASS: settings.backupRestore.instanceClass }
            : {}),
        }
      : {};
    const drivers = new DataStoreDriverLayer(this, 'DataStoreDrivers', {
      runtime: STEP_RUNTIME,
      projectRoot,
    });
    // One function per step, shared by every workflow that invokes it.
    const steps: Partial<Record<StepFunctionName, DrStepFunction>> = {};
    for (const name of Object.keys(STEP_FUNCTIONS) as StepFunctionName[]) {
      const users = workflows.filter((w) => w.steps.includes(name));
      if (users.length === 0) continue;
      const capabilities = STEP_CAPABILITIES[name]!;
      steps[name] = new DrStepFunction(this, name, {
        stepName: name,
        entry: handlerEntry(name),
        projectRoot,
        topology,
        statements: statementsFor(this, capabilities, targets),
        ...(network && reachesDataStores(capabilities) ? { network } : {}),
        bundleValidationDataset: capabilities.includes('smokeSink'),
        ...(capabilities.includes('restoreTargets') ? { environment: restoreEnvironment } : {}),
        timeout: Duration.seconds(functionTimeoutSeconds(name, users)),
        logRetention,
        logLevel: config.logLevel,
        bundleAwsSdk: config.bundleAwsSdk,
        layers: [drivers.layer],
      });
    }
    this.steps = steps;

    // Values a workflow may use besides its step functions, all of this region.
    const resourceSubstitutions: Record<string, string> = {
      Region: region,
      RunTableName: this.resources.table.tableName,
      NotificationTopicArn: this.resources.topic.topicArn,
      EvidenceBucketName: this.resources.evidenceBucket.bucketName,
    };
    const deployed: Record<string, DrWorkflow> = {};
    for (const workflow of workflows) {
      const unknown = workflow.otherSubstitutions.filter((s) => !(s in resourceSubstitutions));
      if (unknown.length > 0) {
        throw new Error(
          `OrchestratorStack ${id}: ${workflow.spec.file} uses \${${unknown.join('}, ${')}}; the stack provides step functions (\${<Step>FunctionArn}) and ${Object.keys(resourceSubstitutions).join(', ')}`,
        );
      }
      deployed[workflow.spec.id] = new DrWorkflow(this, workflow.spec.id, {
        definitionFile: workflow.definitionFile,
        functions: Object.fromEntries(
          workflow.steps.map((name) => [functionArnVariable(name), steps[name]!.function]),
        ),
        substitutions: Object.fromEntries(
          workflow.otherSubstitutions.map((s) => [s, resourceSubstitutions[s]!]),
        ),
        logRetention,
        alarmTopic: this.resources.topic,
      });
      new CfnOutput(this, `${workflow.spec.id}StateMachineArn`, {
        description: workflow.spec.description,
        value: deployed[workflow.spec.id]!.stateMachine.stateMachineArn,
      });
    }
    this.workflows = deployed;
    this.loadedWorkflows = workflows;
    const failover = workflows.find((w) => w.spec.role === 'failover')!;
    this.workflow = deployed[failover.spec.id]!;

    // Approvers answer the callback (waitForTaskToken) tasks of every workflow that has one.
    const withApproval = workflows.filter((w) => w.asl.callbackFunctions.length > 0);
    this.approval = new ApprovalAccess(this, 'Approvers', {
      stateMachines: (withApproval.length > 0 ? withApproval : [failover]).map(
        (w) => deployed[w.spec.id]!.stateMachine,
      ),
      approverPrincipalArns: config.approverPrincipalArns,
    });

    const alarmNames = Object.entries(topology.alarms)
      .filter(([, alarm]) => alarm.targetRegion === region)
      .map(([name]) => name);
    if (alarmNames.length > 0) {
      this.trigger = new FailoverTrigger(this, 'AlarmTrigger', {
        stateMachine: this.workflow.stateMachine,
        alarmNames,
        alarmTopic: this.resources.topic,
      });
    }

    const backupValidation = workflows.find((w) => w.spec.role === 'backup-validation');
    if (backupValidation) {
      const settings = config.backupValidation;
      this.backupValidationSchedule = new BackupValidationSchedule(this, 'BackupValidationSchedule', {
        stateMachine: deployed[backupValidation.spec.id]!.stateMachine,
        scheduleExpression: settings.scheduleExpression,
        timezone: settings.timezone,
        input: props.backupValidationInput ?? readBackupValidationInput(projectRoot),
        expectedIntervalHours: settings.expectedIntervalHours,
        retryAttempts: settings.retryAttempts,
        maxEventAge: Duration.minutes(settings.maxEventAgeMinutes),
        enabled: settings.enabled,
        alarmTopic: this.resources.topic,
      });
    }

    const extra: Record<string, IMetric> = {};
    if (this.trigger)
      extra['Undelivered alarm triggers (dead-letter queue)'] =
        this.trigger.deadLetterQueue.metricApproximateNumberOfMessagesVisible();
    if (this.backupValidationSchedule)
      extra['Undelivered backup-validation starts (dead-letter queue)'] =
        this.backupValidationSchedule.deadLetterQueue.metricApproximateNumberOfMessagesVisible();
    this.dashboard = new DrDashboard(this, 'Dashboard', {
      dashboardName: `${topology.application}-dr-${region}`,
      stateMachines: Object.fromEntries(Object.entries(deployed).map(([wid, w]) => [wid, w.stateMachine])),
      steps: Object.fromEntries(
        Object.entries(steps).map(([name, step]) => [
          name,
          { fn: step.function, stepName: STEP_FUNCTIONS[name as StepFunctionName].name },
        ]),
      ),
      objectives: topology.objectives,
      ...(Object.keys(extra).length > 0 ? { extra } : {}),
    });

    new CfnOutput(this, 'ApproverRoleArn', {
      description: 'Approvers assume this role to answer the approval task',
      value: this.approval.role.roleArn,
    });
    new CfnOutput(this, 'EvidenceBucketName', { value: this.resources.evidenceBucket.bucketName });
    new CfnOutput(this, 'NotificationTopicArn', { value: this.resources.topic.topicArn });
    new CfnOutput(this, 'RunTableName', { value: this.resources.table.tableName });

    applyOrchestratorNagSuppressions(this);
  }
}
