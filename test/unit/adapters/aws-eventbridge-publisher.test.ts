import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EventBridgePublisher } from '../../../lambdas/shared/adapters/aws/eventbridge-publisher';
import { TransientError } from '../../../lambdas/shared/errors';

const eventsMock = mockClient(EventBridgeClient);
const publisher = (eventBusName?: string) =>
  new EventBridgePublisher({
    eventBridge: new EventBridgeClient({ region: 'us-west-2' }),
    ...(eventBusName ? { eventBusName } : {}),
  });

beforeEach(() => {
  eventsMock.reset();
});

describe('EventBridgePublisher', () => {
  test('PutEvents with source tradepulse.dr, the detail type and the detail as JSON', async () => {
    eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
    expect(
      await publisher().publish({
        detailType: 'RegionPromoted',
        detail: { runId: 'run-1', region: 'us-west-2' },
      }),
    ).toEqual({ eventId: 'evt-1' });
    expect(eventsMock).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [
        {
          EventBusName: 'default',
          Source: 'tradepulse.dr',
          DetailType: 'RegionPromoted',
          Detail: '{"runId":"run-1","region":"us-west-2"}',
        },
      ],
    });
  });

  test('a custom bus is used when configured', async () => {
    eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-2' }] });
    await publisher('dr-bus').publish({ detailType: 'DeploymentsFrozen', detail: {} });
    expect(eventsMock).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [expect.objectContaining({ EventBusName: 'dr-bus' })],
    });
  });

  test('a rejected entry (HTTP 200, FailedEntryCount 1) is a TransientError carrying the error code', async () => {
    eventsMock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
    });
    const error = await publisher()
      .publish({ detailType: 'RegionPromoted', detail: {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toBe(
      'EventBridge rejected RegionPromoted on bus default: ThrottlingException (Rate exceeded)',
    );
  });
});
