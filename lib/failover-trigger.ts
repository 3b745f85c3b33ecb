import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/**
 * What the rule sends the failover workflow for an alarm: exactly the alarm trigger input
 * the ValidateInput step accepts (lambdas/shared/run.ts AlarmTriggerInputSchema).
 */
export const ALARM_TRIGGER_INPUT = {
  trigger: 'alarm',
  mode: 'failover',
  alarm: {
    name: EventField.fromPath('$.detail.alarmName'),
    state: EventField.fromPath('$.detail.state.value'),
    reason: EventField.fromPath('$.detail.state.reason'),
  },
  time: EventField.fromPath('$.time'),
};

export interface FailoverTriggerProps {
  /** The failover workflow of this region. */
  readonly stateMachine: IStateMachine;
  /**
   * The CloudWatch alarms (in this region) whose ALARM state starts a failover into it:
   * topology `alarms` entries whose targetRegion is this region.
   */
  readonly alarmNames: readonly string[];
  /** Where the dead-letter alarm notifies. @default no action */
  readonly alarmTopic?: ITopic;
  /** EventBridge delivery retries before the event goes to the dead-letter queue. @default 4 */
  readonly retryAttempts?: number;
  /** Oldest event EventBridge still delivers. @default Duration.hours(1) */
  readonly maxEventAge?: Duration;
}

/**
 * Automatic failover: an EventBridge rule on `CloudWatch Alarm State Change` into ALARM for
 * the configured alarms starts the workflow through an input transformer, with a retry
 * policy and a dead-letter queue (alarmed). A flapping alarm that starts a second execution
 * stops at the workflow's single-flight lock.
 */
export class FailoverTrigger extends Construct {
  readonly rule: Rule;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: FailoverTriggerProps) {
    super(scope, id);
    const retryAttempts = props.retryAttempts ?? 4;
    const maxEventAge = props.maxEventAge ?? Duration.hours(1);
    if (props.alarmNames.length === 0)
      throw new Error(`FailoverTrigger ${id}: at least one alarm name is required`);
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
      throw new Error(
        `FailoverTrigger ${id}: retryAttempts must be a whole number from 0 to 185, not ${retryAttempts}`,
      );
    }
    if (maxEventAge.toSeconds() < 60 || maxEventAge.toSeconds() > 86400) {
      throw new Error(`FailoverTrigger ${id}: maxEventAge must be between 1 minute and 24 hours`);
    }

    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // Undelivered triggers are alarmed and investigated within the retention period.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.rule = new Rule(this, 'AlarmRule', {
      description: 'tradepulse-dr: a failover alarm entered ALARM; start the failover into this region',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: { alarmName: [...new Set(props.alarmNames)].sort(), state: { value: ['ALARM'] } },
      },
    });
    this.rule.addTarget(
      new SfnStateMachine(props.stateMachine, {
        input: RuleTargetInput.fromObject(ALARM_TRIGGER_INPUT),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts,
        maxEventAge,
      }),
    );
    this.deadLetterAlarm = new Alarm(this, 'UndeliveredTriggers', {
      alarmDescription:
        'tradepulse-dr: a failover trigger could not start the workflow (see the dead-letter queue)',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) this.deadLetterAlarm.addAlarmAction(new SnsAction(props.alarmTopic));
  }
}
