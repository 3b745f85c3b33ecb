import path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { STEP_FUNCTIONS, handlerEntry, type StepFunctionName } from '../lambdas/registry';
import { ApprovalAccess } from './approval-access';
import { functionArnVariable, summarizeAsl } from './asl';
import { parseArn, regionDeployment, type DeploymentConfig } from './deployment-config';
import { DrDashboard } from './dr-dashboard';
import { DrRegionalResources } from './dr-regional-resources';
import { DrStepFunction, PROJECT_ROOT, type StepNetwork } from './dr-step-function';
import { DrWorkflow } from './dr-workflow';
import { FailoverTrigger } from './failover-trigger';
import { applyOrchestratorNagSuppressions } from './nag-suppressions';
import { STEP_CAPABILITIES, reachesDataStores } from './step-capabilities';
import { statementsFor } from './step-permissions';

export interface OrchestratorStackProps extends StackProps {
  /** The validated deployment config (lib/deployment-config.ts). */
  readonly config: DeploymentConfig;
  /** The region this orchestrator runs failovers into; the stack is deployed there. */
  readonly orchestratorRegion: string;
  /** The failover workflow. @default state-machines/failover.asl.json */
  readonly definitionFile?: string;
  /** @default the repository root */
  readonly projectRoot?: string;
}

/**
 * The failover orchestrator of one region. Static stability: it creates or names only
 * resources homed in its own region (its table, topic, bucket, key, parameters, event bus,
 * VPC); the other regions appear only inside the topology the steps receive, and in the one
 * best-effort statement that lets QuiesceTrading stop the failed region's gateway if it
 * still answers.
 */
export class OrchestratorStack extends Stack {
  readonly config: DeploymentConfig;
  readonly resources: DrRegionalResources;
  readonly steps: Readonly<Record<StepFunctionName, DrStepFunction>>;
  readonly workflow: DrWorkflow;
  readonly approval: ApprovalAccess;
  readonly trigger?: FailoverTrigger;
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
    const definitionFile =
      props.definitionFile ?? path.join(projectRoot, 'state-machines', 'failover.asl.json');
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

    const asl = summarizeAsl(definitionFile);
    const targets = {
      region,
      account: config.account,
      topology,
      tableArn: this.resources.table.tableArn,
      topicArn: this.resources.topic.topicArn,
      bucketArn: this.resources.evidenceBucket.bucketArn,
      keyArn: this.resources.key.keyArn,
    };
    const steps = {} as Record<StepFunctionName, DrStepFunction>;
    for (const name of Object.keys(STEP_FUNCTIONS) as StepFunctionName[]) {
      const capabilities = STEP_CAPABILITIES[name];
      const variable = functionArnVariable(name);
      // A step's function may run as long as the workflow lets its longest state wait for it;
      // a callback step (waitForTaskToken) only hands the token over.
      const seconds = asl.callbackFunctions.includes(variable)
        ? 60
        : (asl.taskTimeoutSeconds[variable] ?? 60);
      steps[name] = new DrStepFunction(this, name, {
        stepName: name,
        entry: handlerEntry(name),
        projectRoot,
        topology,
        statements: statementsFor(this, capabilities, targets),
        ...(network && reachesDataStores(capabilities) ? { network } : {}),
        bundleValidationDataset: capabilities.includes('smokeSink'),
        timeout: Duration.seconds(Math.min(seconds, 900)),
        logRetention,
        logLevel: config.logLevel,
        bundleAwsSdk: config.bundleAwsSdk,
      });
    }
    this.steps = steps;

    this.workflow = new DrWorkflow(this, 'Failover', {
      definitionFile,
      functions: Object.fromEntries(
        (Object.keys(steps) as StepFunctionName[])
          .filter((name) => asl.substitutions.includes(functionArnVariable(name)))
          .map((name) => [functionArnVariable(name), steps[name].function]),
      ),
      logRetention,
      alarmTopic: this.resources.topic,
    });

    this.approval = new ApprovalAccess(this, 'Approvers', {
      stateMachine: this.workflow.stateMachine,
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

    this.dashboard = new DrDashboard(this, 'Dashboard', {
      dashboardName: `${topology.application}-dr-${region}`,
      stateMachine: this.workflow.stateMachine,
      steps: Object.fromEntries(Object.entries(steps).map(([name, step]) => [name, step.function])),
      ...(this.trigger
        ? {
            extra: {
              'Undelivered alarm triggers (dead-letter queue)':
                this.trigger.deadLetterQueue.metricApproximateNumberOfMessagesVisible(),
            },
          }
        : {}),
    });

    new CfnOutput(this, 'FailoverStateMachineArn', {
      description: 'Start a failover or drill into this region here (console or the drill CLI)',
      value: this.workflow.stateMachine.stateMachineArn,
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
