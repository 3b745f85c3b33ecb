import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Function as LambdaFunction, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { DefinitionBody, Pass, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { ApprovalAccess } from '../../lib/approval-access';
import {
  BackupValidationSchedule,
  type BackupValidationScheduleProps,
} from '../../lib/backup-validation-schedule';
import { parseDeploymentConfig } from '../../lib/deployment-config';
import { DrRegionalResources } from '../../lib/dr-regional-resources';
import { DrStepFunction, PROJECT_ROOT } from '../../lib/dr-step-function';
import { DrWorkflow } from '../../lib/dr-workflow';
import { FailoverTrigger } from '../../lib/failover-trigger';
import { sameRegionSecretArn } from '../../lambdas/shared/providers/database-secret';
import { cdkJsonContext, sampleConfigInput } from './synthesize';

const ASL_FILE = path.join(PROJECT_ROOT, 'state-machines', 'failover.asl.json');
const topology = parseDeploymentConfig(sampleConfigInput()).topology;
const newStack = () =>
  new Stack(new App(), 'Test', { env: { account: '111122223333', region: 'us-west-2' } });
const importedFunctions = (stack: Stack, names: string[]): Record<string, IFunction> =>
  Object.fromEntries(
    names.map((name) => [
      name,
      LambdaFunction.fromFunctionArn(
        stack,
        name,
        `arn:aws:lambda:us-west-2:111122223333:function:${name.replace(/FunctionArn$/, '')}`,
      ),
    ]),
  );
const ALL_FUNCTION_VARIABLES = [
  'AcquireLock',
  'AnnounceRegion',
  'CaptureDataAtRisk',
  'CheckConsumerLag',
  'CheckTargetHealth',
  'CutoverTraffic',
  'EvaluateRpoGate',
  'EvaluateVerification',
  'FenceOldPrimary',
  'FreezeDeployments',
  'Notify',
  'OpenRunRecord',
  'PromoteKafka',
  'PromotePostgres',
  'PromoteRedis',
  'QuiesceTrading',
  'RecheckBeforeResume',
  'ReconcileLedger',
  'RecordFailure',
  'ReleaseLock',
  'RequestApproval',
  'ResumeTrading',
  'RunSmokeHarness',
  'ValidateInput',
  'WaitForDnsSync',
  'WaitForDrain',
  'WriteEvidenceBundle',
].map((n) => `${n}FunctionArn`);

describe('DrStepFunction validates its props before bundling anything', () => {
  const base = {
    stepName: 'ValidateInput',
    entry: 'lambdas/validate-input/handler.ts',
    topology,
    layers: [],
  };
  test.each([
    [
      'a step name that is not PascalCase',
      { stepName: 'validate-input' },
      /stepName 'validate-input' must be PascalCase/,
    ],
    [
      'a handler module that does not exist',
      { entry: 'lambdas/nope/handler.ts' },
      /entry .*lambdas\/nope\/handler\.ts does not exist/,
    ],
    [
      'a timeout over Lambda’s 15 minutes',
      { timeout: Duration.minutes(16) },
      /timeout must be between 1 and 900 seconds, not 960/,
    ],
    [
      'a memory size Lambda does not offer',
      { memorySize: 64 },
      /memorySize must be a whole number of MB from 128 to 10240, not 64/,
    ],
    [
      'a network without security groups',
      { network: { vpc: {} as never, subnets: [{} as never], securityGroups: [] } },
      /at least one subnet and one security group/,
    ],
  ])('rejects %s', (_what, override, message) => {
    expect(() => new DrStepFunction(newStack(), 'Step', { ...base, ...override })).toThrow(message);
  });

  test('rejects a topology too large for Lambda’s 4 KB environment even gzip-compressed', () => {
    // Random alarm names: what gzip cannot shrink (a repetitive large topology is compressed, see orchestrator-stack.test.ts).
    const huge = {
      ...topology,
      alarms: Object.fromEntries(
        Array.from({ length: 200 }, () => [
          `tradepulse-${randomBytes(24).toString('hex')}`,
          { sourceRegion: 'us-east-1', targetRegion: 'us-west-2' },
        ]),
      ),
    };
    expect(() => new DrStepFunction(newStack(), 'Step', { ...base, topology: huge })).toThrow(
      /over Lambda's 4096; the topology is too large even compressed/,
    );
  });
});

describe('DrWorkflow', () => {
  test('refuses a definition whose substitutions are not all given, naming them', () => {
    const stack = newStack();
    const functions = importedFunctions(
      stack,
      ALL_FUNCTION_VARIABLES.filter((n) => n !== 'NotifyFunctionArn'),
    );
    expect(() => new DrWorkflow(stack, 'Failover', { definitionFile: ASL_FILE, functions })).toThrow(
      /uses \$\{NotifyFunctionArn\} but no function or value was given/,
    );
  });

  test('refuses functions the definition does not use (it grants exactly what the file invokes)', () => {
    const stack = newStack();
    const functions = importedFunctions(stack, [...ALL_FUNCTION_VARIABLES, 'StrayFunctionArn']);
    expect(() => new DrWorkflow(stack, 'Failover', { definitionFile: ASL_FILE, functions })).toThrow(
      /functions given for StrayFunctionArn, which failover\.asl\.json does not use/,
    );
  });

  test('with imported functions: substitutions, exact invoke grant, ALL logging, tracing, three alarms', () => {
    const stack = newStack();
    const functions = importedFunctions(stack, ALL_FUNCTION_VARIABLES);
    new DrWorkflow(stack, 'Failover', { definitionFile: ASL_FILE, functions });
    const template = Template.fromStack(stack);
    const [sm] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(Object.keys(sm!.Properties.DefinitionSubstitutions)).toHaveLength(27);
    expect(sm!.Properties.DefinitionSubstitutions.NotifyFunctionArn).toBe(
      'arn:aws:lambda:us-west-2:111122223333:function:Notify',
    );
    expect(sm!.Properties.LoggingConfiguration.Level).toBe('ALL');
    expect(sm!.Properties.TracingConfiguration).toEqual({ Enabled: true });
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
    const invoke = policy!.Properties.PolicyDocument.Statement.find(
      (s: { Sid?: string }) => s.Sid === 'InvokeWorkflowSteps',
    );
    expect([...invoke.Resource].sort()).toEqual(
      ALL_FUNCTION_VARIABLES.map(
        (n) => `arn:aws:lambda:us-west-2:111122223333:function:${n.replace(/FunctionArn$/, '')}`,
      ).sort(),
    );
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
  });
});

describe('the other constructs validate their props', () => {
  test('ApprovalAccess needs at least one IAM principal', () => {
    const stack = newStack();
    const stateMachine = StateMachine.fromStateMachineName(stack, 'Sm', 'x') as unknown as StateMachine;
    const stateMachines = [stateMachine];
    expect(() => new ApprovalAccess(stack, 'A', { stateMachines, approverPrincipalArns: [] })).toThrow(
      /at least one approver principal/,
    );
    expect(() => new ApprovalAccess(stack, 'B', { stateMachines, approverPrincipalArns: ['bob'] })).toThrow(
      /'bob' is not an IAM role or user ARN/,
    );
    expect(
      () =>
        new ApprovalAccess(stack, 'C', {
          stateMachines: [],
          approverPrincipalArns: ['arn:aws:iam::111122223333:role/Duty'],
        }),
    ).toThrow(/at least one state machine/);
  });

  test('FailoverTrigger needs alarms and sane retry settings', () => {
    const stack = newStack();
    const stateMachine = StateMachine.fromStateMachineName(stack, 'Sm', 'x');
    expect(() => new FailoverTrigger(stack, 'A', { stateMachine, alarmNames: [] })).toThrow(
      /at least one alarm name/,
    );
    expect(
      () => new FailoverTrigger(stack, 'B', { stateMachine, alarmNames: ['a'], retryAttempts: -1 }),
    ).toThrow(/retryAttempts must be a whole number from 0 to 185/);
    expect(
      () =>
        new FailoverTrigger(stack, 'C', { stateMachine, alarmNames: ['a'], maxEventAge: Duration.hours(48) }),
    ).toThrow(/maxEventAge/);
  });

  test('DrRegionalResources needs access logs delivered by bucket policy (the cdk.json feature flag)', () => {
    const props = { tableName: 'runs', topicName: 'topic', evidenceBucketName: 'bucket-name' };
    expect(() => new DrRegionalResources(newStack(), 'R', props)).toThrow(
      /needs the feature flag @aws-cdk\/aws-s3:serverAccessLogsUseBucketPolicy/,
    );
    const flagged = new Stack(new App({ context: cdkJsonContext() }), 'Flagged', {
      env: { account: '111122223333', region: 'us-west-2' },
    });
    expect(() => new DrRegionalResources(flagged, 'R', props)).not.toThrow();
  });

  test('DrRegionalResources refuses a retention of no days and a bad topic name', () => {
    const props = { tableName: 'runs', topicName: 'topic', evidenceBucketName: 'bucket-name' };
    expect(() => new DrRegionalResources(newStack(), 'R', { ...props, evidenceRetentionDays: 0 })).toThrow(
      /evidenceRetentionDays must be a whole number of days ≥ 1, not 0/,
    );
    expect(() => new DrRegionalResources(newStack(), 'R', { ...props, topicName: 'has space' })).toThrow(
      /invalid topicName/,
    );
  });
});

test('a secret’s replica ARN is the same secret in the orchestrator’s region', () => {
  expect(
    sameRegionSecretArn('arn:aws:secretsmanager:us-east-1:111122223333:secret:pg/dr-AbCdEf', 'us-west-2'),
  ).toBe('arn:aws:secretsmanager:us-west-2:111122223333:secret:pg/dr-AbCdEf');
});

describe('BackupValidationSchedule', () => {
  const INPUT = JSON.parse(
    fs.readFileSync(path.join(PROJECT_ROOT, 'events', 'backup-validation-schedule.json'), 'utf8'),
  ) as Record<string, unknown>;
  const withSchedule = (props: Partial<BackupValidationScheduleProps> = {}) => {
    const stack = newStack();
    const stateMachine = new StateMachine(stack, 'Sm', {
      definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Nothing')),
    });
    const topic = new Topic(stack, 'Topic');
    const schedule = new BackupValidationSchedule(stack, 'Schedule', {
      stateMachine,
      scheduleExpression: 'cron(0 3 * * ? *)',
      timezone: 'Europe/London',
      input: INPUT,
      expectedIntervalHours: 24,
      retryAttempts: 3,
      maxEventAge: Duration.hours(1),
      alarmTopic: topic,
      ...props,
    });
    return {
      stack,
      schedule,
      template: Template.fromStack(stack),
      ids: {
        sm: stack.getLogicalId(stateMachine.node.defaultChild as never),
        topic: stack.getLogicalId(topic.node.defaultChild as never),
      },
    };
  };

  test('an EventBridge Scheduler schedule: the configured cron and time zone, flexible window off, retries, DLQ, the documented input', () => {
    const { template, ids, stack, schedule } = withSchedule();
    const dlq = stack.getLogicalId(schedule.deadLetterQueue.node.defaultChild as never);
    const [props] = Object.values(template.findResources('AWS::Scheduler::Schedule')).map(
      (r) => r.Properties,
    );
    expect(props).toMatchObject({
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/London',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: { Ref: ids.sm },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
      },
    });
    expect(JSON.parse(props.Target.Input)).toEqual(INPUT);
    expect(INPUT.scheduledTime).toBe('<aws.scheduler.scheduled-time>');
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    // The scheduler's role may start exactly this state machine.
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    const start = statements.filter((s: { Action: unknown }) => s.Action === 'states:StartExecution');
    expect(start).toEqual([expect.objectContaining({ Effect: 'Allow', Resource: { Ref: ids.sm } })]);
  });

  test('alarms: a failed, timed-out or aborted validation; no validation started within the interval + a day (missing data breaches); undelivered starts', () => {
    const { template, ids, schedule, stack } = withSchedule({ expectedIntervalHours: 24 });
    const alarm = (a: { node: { defaultChild?: unknown } }) =>
      template.toJSON().Resources[stack.getLogicalId(a.node.defaultChild as never)].Properties;
    const failed = alarm(schedule.alarms.failed);
    expect(failed).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: ids.topic }],
    });
    const metricNames = (
      failed.Metrics as { MetricStat?: { Metric: { MetricName: string; Dimensions: unknown } } }[]
    )
      .filter((m) => m.MetricStat)
      .map((m) => [m.MetricStat!.Metric.MetricName, m.MetricStat!.Metric.Dimensions]);
    expect(metricNames).toEqual(
      ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'].map((n) => [
        n,
        [{ Name: 'StateMachineArn', Value: { Ref: ids.sm } }],
      ]),
    );
    expect(alarm(schedule.alarms.didNotRun)).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsStarted',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: ids.sm } }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 48,
      DatapointsToAlarm: 48,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: ids.topic }],
    });
    expect(alarm(schedule.alarms.undelivered)).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: ids.topic }],
    });
    // A weekly-ish cadence still fits CloudWatch's 7-day evaluation range.
    const longest = withSchedule({ expectedIntervalHours: 144 });
    const longestDidNotRun =
      longest.template.toJSON().Resources[
        longest.stack.getLogicalId(longest.schedule.alarms.didNotRun.node.defaultChild as never)
      ].Properties;
    expect([longestDidNotRun.Period * longestDidNotRun.EvaluationPeriods]).toEqual([7 * 24 * 3600]);
  });

  test('a disabled schedule is created DISABLED and its "did not run" alarm notifies no one', () => {
    const { template, schedule, stack } = withSchedule({ enabled: false });
    const [props] = Object.values(template.findResources('AWS::Scheduler::Schedule')).map(
      (r) => r.Properties,
    );
    expect(props.State).toBe('DISABLED');
    const didNotRun =
      template.toJSON().Resources[stack.getLogicalId(schedule.alarms.didNotRun.node.defaultChild as never)]
        .Properties;
    expect(didNotRun.ActionsEnabled).toBe(false);
  });

  test('bad settings are refused naming the setting', () => {
    expect(() => withSchedule({ expectedIntervalHours: 145 })).toThrow(
      /expectedIntervalHours \+ 24 must be at most 168/,
    );
    expect(() => withSchedule({ expectedIntervalHours: 0 })).toThrow(
      /expectedIntervalHours must be a whole number/,
    );
    expect(() => withSchedule({ scheduleExpression: 'rate(1 day)' })).toThrow(
      /scheduleExpression must be cron/,
    );
    expect(() => withSchedule({ retryAttempts: 186 })).toThrow(
      /retryAttempts must be a whole number from 0 to 185/,
    );
  });
});
