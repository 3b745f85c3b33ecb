import { PublishCommand, type MessageAttributeValue, type SNSClient } from '@aws-sdk/client-sns';
import type { Notifier } from '../contracts';
import { awsCall } from './aws-call';
import type { SentNotificationLedger } from './dynamodb-notification-ledger';

export interface SnsNotifierOptions {
  /** A client for the region running the workflow. */
  readonly sns: SNSClient;
  /** The region's own topic (topology `regions.<region>.aws.snsTopicArn`). */
  readonly topicArn: string;
  /** Sent as the `runId` message attribute. */
  readonly runId: string;
  /** Where sent dedupe keys are remembered (DynamoDbSentNotificationLedger in the run table). */
  readonly ledger: SentNotificationLedger;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** SNS allows at most 100 characters of printable ASCII, no line breaks. */
export const SNS_SUBJECT_MAX = 100;
/** SNS allows at most 10 message attributes. */
const MAX_ATTRIBUTES = 10;

/**
 * Notifications over SNS. A standard topic has no deduplication, so the notifier keeps
 * its own: it looks the dedupe key up in the ledger, publishes only if absent, then
 * records it. A crash between publish and record sends that one message again on the
 * re-drive: at-least-once, by choice, since a lost SEV-1 notice is worse than a repeat.
 */
export class SnsNotifier implements Notifier {
  private readonly sns: SNSClient;
  private readonly topicArn: string;
  private readonly runId: string;
  private readonly ledger: SentNotificationLedger;
  private readonly now: () => Date;

  constructor(opts: SnsNotifierOptions) {
    this.sns = opts.sns;
    this.topicArn = opts.topicArn;
    this.runId = opts.runId;
    this.ledger = opts.ledger;
    this.now = opts.now ?? (() => new Date());
  }

  async notify(
    message: Parameters<Notifier['notify']>[0],
  ): Promise<{ messageId: string; alreadyDone: boolean }> {
    const sent = await this.ledger.find(message.dedupeKey);
    if (sent) return { messageId: sent.messageId, alreadyDone: true };

    const subject = snsSubject(message.subject);
    const response = await awsCall(() =>
      this.sns.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          ...(subject ? { Subject: subject } : {}),
          Message: message.body,
          MessageAttributes: this.attributes(message),
        }),
      ),
    );
    if (!response.MessageId) throw new Error('SNS Publish returned no MessageId');
    await this.ledger.record({
      dedupeKey: message.dedupeKey,
      messageId: response.MessageId,
      sentAt: this.now().toISOString(),
      template: message.template,
      subject,
    });
    return { messageId: response.MessageId, alreadyDone: false };
  }

  private attributes(message: Parameters<Notifier['notify']>[0]): Record<string, MessageAttributeValue> {
    const fixed: Record<string, string> = {
      severity: message.severity,
      template: message.template,
      runId: this.runId,
      dedupeKey: message.dedupeKey,
    };
    const extra = Object.entries(message.attributes ?? {}).filter(([name]) => !(name in fixed));
    const all = [...Object.entries(fixed), ...extra].filter(([, value]) => value !== '');
    if (all.length > MAX_ATTRIBUTES) {
      throw new Error(
        `SNS allows ${MAX_ATTRIBUTES} message attributes; this notification has ${all.length}: ${all.map(([n]) => n).join(', ')}`,
      );
    }
    return Object.fromEntries(all.map(([name, value]) => [name, { DataType: 'String', StringValue: value }]));
  }
}

/** A subject SNS accepts: printable ASCII, one line, at most 100 characters (cut with "..."). */
export function snsSubject(subject: string): string {
  const ascii = subject
    .replace(/[—–]/g, '-')
    .replace(/→/g, '->')
    .replace(/[\r\n\t]+/g, ' ')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return ascii.length <= SNS_SUBJECT_MAX ? ascii : `${ascii.slice(0, SNS_SUBJECT_MAX - 3)}...`;
}
