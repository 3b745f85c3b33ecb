import { Duration, RemovalPolicy, TimeZone } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  TreatMissingData,
  type IAlarmAction,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Schedule, ScheduleExpression, ScheduleTargetInput, TimeWindow } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** CloudWatch's longest evaluation range for periods of an hour or more (7 days). */
export const MAX_ALARM_EVALUATION_HOURS = 7 * 24;

export interface BackupValidationScheduleProps {
  /** The backup-validation workflow of this region. */
  readonly stateMachine: IStateMachine;
  /** EventBridge Scheduler cron expression, e.g. `cron(0 3 * * ? *)`. */
  readonly scheduleExpression: string;
  /** IANA time zone of the cron. @default UTC */
  readonly timezone?: string;
  /** The execution input (events/backup-validation-schedule.json). */
  readonly input: Record<string, unknown>;
  /** Hours between two scheduled runs; the "did not run" alarm allows this + 24 h. */
  readonly expectedIntervalHours: number;
  /** @default 3 */
  readonly retryAttempts?: number;
  /** @default Duration.hours(1) */
  readonly maxEventAge?: Duration;
  /** @default true */
  readonly enabled?: boolean;
  /** Where the alarms notify. @default no action */
  readonly alarmTopic?: ITopic;
}

/**
 * Scheduled backup validation: an EventBridge Scheduler schedule (flexible time window off,
 * retry policy, encrypted dead-letter queue) that starts the backup-validation workflow with
 * the documented input, and the alarms that say a validation failed (failed, timed out or
 * aborted executions) or did not run at all (no execution started for the schedule's
 * interval plus a day; missing data counts as not run).
 */
export class BackupValidationSchedule extends Construct {
  readonly schedule: Schedule;
  readonly deadLetterQueue: Queue;
  readonly alarms: {
    /** An execution failed, timed out or was aborted. */
    readonly failed: Alarm;
    /** No execution started within the expected interval + 24 h. */
    readonly didNotRun: Alarm;
    /** Scheduler could not start the workflow (dead-letter queue not empty). */
    readonly undelivered: Alarm;
  };

  constructor(scope: Construct, id: string, props: BackupValidationScheduleProps) {
    super(scope, id);
    const retryAttempts = props.retryAttempts ?? 3;
    const maxEventAge = props.maxEventAge ?? Duration.hours(1);
    const windowHours = props.expectedIntervalHours + 24;
    if (!Number.isInteger(props.expectedIntervalHours) || props.expectedIntervalHours < 1) {
      throw new Error(
        `BackupValidationSchedule ${id}: expectedIntervalHours must be a whole number ≥ 1, not ${props.expectedIntervalHours}`,
      );
    }
    if (windowHours > MAX_ALARM_EVALUATION_HOURS) {
      throw new Error(
        `BackupValidationSchedule ${id}: expectedIntervalHours + 24 must be at most ${MAX_ALARM_EVALUATION_HOURS} (CloudWatch evaluates at most 7 days), not ${windowHours}`,
      );
    }
    if (!/^cron\(\S+( \S+){5}\)$/.test(props.scheduleExpression)) {
      throw new Error(
        `BackupValidationSchedule ${id}: scheduleExpression must be cron(… six fields …), not '${props.scheduleExpression}'`,
      );
    }
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
      throw new Error(`BackupValidationSchedule ${id}: retryAttempts must be a whole number from 0 to 185`);
    }
    if (maxEventAge.toSeconds() < 60 || maxEventAge.toSeconds() > 86400) {
      throw new Error(`BackupValidationSchedule ${id}: maxEventAge must be between 1 minute and 24 hours`);
    }

    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // Undelivered starts are alarmed and investigated within the retention period.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.schedule = new Schedule(this, 'Schedule', {
      description: 'tradepulse-dr: start the scheduled backup validation of this region',
      schedule: ScheduleExpression.expression(props.scheduleExpression, TimeZone.of(props.timezone ?? 'UTC')),
      timeWindow: TimeWindow.off(),
      enabled: props.enabled ?? true,
      target: new StepFunctionsStartExecution(props.stateMachine, {
        input: ScheduleTargetInput.fromObject(props.input),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts,
        maxEventAge,
      }),
    });

    const actions: IAlarmAction[] = props.alarmTopic ? [new SnsAction(props.alarmTopic)] : [];
    const hour = Duration.hours(1);
    const sm = props.stateMachine;
    this.alarms = {
      failed: new Alarm(this, 'ValidationFailed', {
        alarmDescription:
          'tradepulse-dr: a backup validation failed, timed out or was aborted (the backups may not restore; see the execution and its evidence)',
        metric: new MathExpression({
          expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
          label: 'Backup validations not succeeded',
          period: hour,
          usingMetrics: {
            failed: sm.metricFailed({ period: hour, statistic: 'Sum' }),
            timedOut: sm.metricTimedOut({ period: hour, statistic: 'Sum' }),
            aborted: sm.metricAborted({ period: hour, statistic: 'Sum' }),
          },
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      // Hourly sums over interval + 24 h: an hour without executions has no data point, and
      // missing data is breaching, so the alarm fires only when no hour of the window had a start.
      didNotRun: new Alarm(this, 'ValidationDidNotRun', {
        alarmDescription: `tradepulse-dr: no backup validation started in the last ${windowHours} hours (schedule ${props.scheduleExpression} ${props.timezone ?? 'UTC'} + a day of grace)`,
        metric: sm.metricStarted({ period: hour, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: windowHours,
        datapointsToAlarm: windowHours,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.BREACHING,
        // A schedule switched off on purpose does not page anyone for not running.
        actionsEnabled: props.enabled ?? true,
      }),
      undelivered: new Alarm(this, 'UndeliveredStarts', {
        alarmDescription:
          'tradepulse-dr: EventBridge Scheduler could not start the backup validation (see the dead-letter queue)',
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    };
    for (const alarm of Object.values(this.alarms)) alarm.addAlarmAction(...actions);
  }
}
