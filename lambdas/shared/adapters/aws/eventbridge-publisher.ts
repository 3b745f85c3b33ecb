import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { TransientError } from '../../errors';
import type { EventPublisher } from '../contracts';
import { awsCall } from './aws-call';

export const DR_EVENT_SOURCE = 'tradepulse.dr';

export interface EventBridgePublisherOptions {
  /** A client for the region running the workflow. */
  readonly eventBridge: EventBridgeClient;
  /** The region's bus (topology `regions.<region>.aws.eventBusName`). @default 'default' */
  readonly eventBusName?: string;
  /** @default 'tradepulse.dr' */
  readonly source?: string;
}

/**
 * Domain events (`DeploymentsFrozen`, `RegionPromoted`, …) on EventBridge. PutEvents
 * answers 200 even when an entry is rejected, so FailedEntryCount is checked: a rejected
 * entry (throttled, internal failure) is a TransientError for the ASL to retry.
 */
export class EventBridgePublisher implements EventPublisher {
  private readonly eventBridge: EventBridgeClient;
  private readonly eventBusName: string;
  private readonly source: string;

  constructor(opts: EventBridgePublisherOptions) {
    this.eventBridge = opts.eventBridge;
    this.eventBusName = opts.eventBusName ?? 'default';
    this.source = opts.source ?? DR_EVENT_SOURCE;
  }

  async publish(event: {
    detailType: string;
    detail: Record<string, unknown>;
  }): Promise<{ eventId: string }> {
    const response = await awsCall(() =>
      this.eventBridge.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.eventBusName,
              Source: this.source,
              DetailType: event.detailType,
              Detail: JSON.stringify(event.detail),
            },
          ],
        }),
      ),
    );
    const entry = response.Entries?.[0];
    if ((response.FailedEntryCount ?? 0) > 0 || !entry?.EventId) {
      throw new TransientError(
        `EventBridge rejected ${event.detailType} on bus ${this.eventBusName}: ${entry?.ErrorCode ?? 'no event id'}${entry?.ErrorMessage ? ` (${entry.ErrorMessage})` : ''}`,
        {
          detailType: event.detailType,
          eventBusName: this.eventBusName,
          errorCode: entry?.ErrorCode,
          errorMessage: entry?.ErrorMessage,
        },
      );
    }
    return { eventId: entry.EventId };
  }
}
