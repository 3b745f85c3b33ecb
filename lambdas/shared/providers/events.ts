import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgePublisher } from '../adapters/aws/eventbridge-publisher';
import { defineProvider, regionOf } from './provider';
import type { DrDependencies } from '../dependencies';

/** `events`: EventBridge on the orchestrator region's bus. */
export const eventsProvider = defineProvider<Pick<DrDependencies, 'events'>>('events', (ctx) => {
  const eventBusName = regionOf(ctx.topology, ctx.region).aws.eventBusName;
  return {
    forRun: () => ({
      events: new EventBridgePublisher({
        eventBridge: ctx.aws(ctx.region, 'eventBridge', (c) => new EventBridgeClient(c)),
        eventBusName,
      }),
    }),
  };
});
