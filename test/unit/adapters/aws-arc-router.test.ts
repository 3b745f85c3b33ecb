/**
 * moto has no Route 53 ARC backend (route53-recovery-cluster answers HTTP 500 "Unable to find
 * appropriate backend", docs/moto-coverage.md), so the routing-control router - the
 * alternative data-plane method - is tested with aws-sdk-client-mock only.
 */
import {
  GetRoutingControlStateCommand,
  Route53RecoveryClusterClient,
  UpdateRoutingControlStatesCommand,
  type RoutingControlState,
} from '@aws-sdk/client-route53-recovery-cluster';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ArcRoutingControlRouter } from '../../../lambdas/shared/adapters/aws/arc-router';
import type { ArcClusterClient } from '../../../lambdas/shared/adapters/aws/clients';
import { InvalidInputError, TransientError } from '../../../lambdas/shared/errors';

const A = 'us-east-1';
const B = 'us-west-2';
const arns: Record<string, string> = {
  [A]: 'arn:aws:route53-recovery-control::123456789012:controlpanel/cp/routingcontrol/rc-a',
  [B]: 'arn:aws:route53-recovery-control::123456789012:controlpanel/cp/routingcontrol/rc-b',
};

// Two cluster endpoints, each its own client instance; mocked per instance.
const clients = [
  { endpoint: 'https://aaaa.route53-recovery-cluster.us-west-2.amazonaws.com/v1', region: 'us-west-2' },
  { endpoint: 'https://bbbb.route53-recovery-cluster.eu-west-1.amazonaws.com/v1', region: 'eu-west-1' },
].map(({ endpoint, region }) => ({
  endpoint,
  region,
  client: new Route53RecoveryClusterClient({ region, endpoint }),
}));
const first = mockClient(clients[0]!.client);
const second = mockClient(clients[1]!.client);

const router = (clusters: ArcClusterClient[] = clients) =>
  new ArcRoutingControlRouter({ clusters, routingControlArns: arns });

function states(mock: typeof first, s: Record<string, RoutingControlState>) {
  for (const [region, state] of Object.entries(s)) {
    mock
      .on(GetRoutingControlStateCommand, { RoutingControlArn: arns[region] })
      .resolves({ RoutingControlArn: arns[region], RoutingControlState: state });
  }
}
const unavailable = () =>
  Object.assign(new Error('endpoint down'), {
    name: 'EndpointTemporarilyUnavailableException',
    $metadata: { httpStatusCode: 503 },
  });

beforeEach(() => {
  first.reset();
  second.reset();
});

describe('ArcRoutingControlRouter', () => {
  test('activeRegions: the region whose routing control is On, for every trading endpoint', async () => {
    states(first, { [A]: 'On', [B]: 'Off' });
    expect(await router().activeRegions()).toEqual({
      api: A,
      postgresWriter: A,
      kafkaBootstrap: A,
      redis: A,
    });
  });

  test('activeRegions is null when no control or several controls are On', async () => {
    states(first, { [A]: 'On', [B]: 'On' });
    expect(Object.values(await router().activeRegions())).toEqual([null, null, null, null]);
  });

  test('routeTo turns the target On and the others Off in one UpdateRoutingControlStates call', async () => {
    states(first, { [A]: 'On', [B]: 'Off' });
    first.on(UpdateRoutingControlStatesCommand).resolves({});
    const result = await router().routeTo(B, { dryRun: false });
    expect(first).toHaveReceivedCommandTimes(UpdateRoutingControlStatesCommand, 1);
    expect(first).toHaveReceivedCommandWith(UpdateRoutingControlStatesCommand, {
      UpdateRoutingControlStateEntries: [
        { RoutingControlArn: arns[A], RoutingControlState: 'Off' },
        { RoutingControlArn: arns[B], RoutingControlState: 'On' },
      ],
    });
    expect(result).toEqual({
      method: 'arc-routing-control',
      alreadyDone: false,
      changeId: `arc-routing-control:${B}`,
      records: [
        { name: `${arns[A]} (${A})`, before: 'On', after: 'Off' },
        { name: `${arns[B]} (${B})`, before: 'Off', after: 'On' },
      ],
    });
  });

  test('routeTo is a no-op when the target is already On and the others Off', async () => {
    states(first, { [A]: 'Off', [B]: 'On' });
    const result = await router().routeTo(B, { dryRun: false });
    expect(result.alreadyDone).toBe(true);
    expect(first).not.toHaveReceivedCommand(UpdateRoutingControlStatesCommand);
  });

  test('a dry run reports the planned states and updates nothing', async () => {
    states(first, { [A]: 'On', [B]: 'Off' });
    const result = await router().routeTo(B, { dryRun: true });
    expect(result.alreadyDone).toBe(false);
    expect(result.records.map((r) => r.after)).toEqual(['Off', 'On']);
    expect(first).not.toHaveReceivedCommand(UpdateRoutingControlStatesCommand);
    expect(second).not.toHaveReceivedCommand(UpdateRoutingControlStatesCommand);
  });

  test('a failing cluster endpoint is skipped: the call is retried on the next one', async () => {
    first.on(GetRoutingControlStateCommand).rejects(unavailable());
    first.on(UpdateRoutingControlStatesCommand).rejects(unavailable());
    states(second, { [A]: 'On', [B]: 'Off' });
    second.on(UpdateRoutingControlStatesCommand).resolves({});
    const result = await router().routeTo(B, { dryRun: false });
    expect(result.changeId).toBe(`arc-routing-control:${B}`);
    expect(second).toHaveReceivedCommandTimes(UpdateRoutingControlStatesCommand, 1);
  });

  test('every endpoint failing is a TransientError naming each endpoint', async () => {
    first.on(GetRoutingControlStateCommand).rejects(unavailable());
    second
      .on(GetRoutingControlStateCommand)
      .rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    const error = await router()
      .activeRegions()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toContain(clients[0]!.endpoint);
    expect((error as Error).message).toContain(clients[1]!.endpoint);
  });

  test('a refusal (safety rule conflict) is not retried on another endpoint', async () => {
    states(first, { [A]: 'On', [B]: 'Off' });
    first.on(UpdateRoutingControlStatesCommand).rejects(
      Object.assign(new Error('safety rule'), {
        name: 'ConflictException',
        $metadata: { httpStatusCode: 409 },
      }),
    );
    await expect(router().routeTo(B, { dryRun: false })).rejects.toMatchObject({ name: 'ConflictException' });
    expect(second).not.toHaveReceivedCommand(UpdateRoutingControlStatesCommand);
  });

  test('isChangeComplete reads the states back', async () => {
    states(first, { [A]: 'On', [B]: 'Off' });
    expect(await router().isChangeComplete(`arc-routing-control:${B}`)).toBe(false);
    first.reset();
    states(first, { [A]: 'Off', [B]: 'On' });
    expect(await router().isChangeComplete(`arc-routing-control:${B}`)).toBe(true);
    await expect(router().isChangeComplete('/change/C1')).rejects.toBeInstanceOf(InvalidInputError);
  });

  test('an unknown target region is refused before any call', async () => {
    await expect(router().routeTo('eu-central-1', { dryRun: false })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    expect(first.calls()).toHaveLength(0);
  });
});
