import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { InvalidInputError, TransientError } from '../../../lambdas/shared/errors';
import {
  Route53WeightedRouter,
  normaliseChangeId,
} from '../../../lambdas/shared/adapters/aws/route53-router';
import { TRADING_ENDPOINTS, type TradingEndpoint } from '../../../lambdas/shared/topology';

const route53Mock = mockClient(Route53Client);
const A = 'us-east-1';
const B = 'us-west-2';
const zone = 'Z0123456789';
const records: Record<TradingEndpoint, string> = {
  api: 'api.trading.example.internal',
  postgresWriter: 'postgres-writer.trading.example.internal',
  kafkaBootstrap: 'kafka-bootstrap.trading.example.internal',
  redis: 'redis.trading.example.internal',
};
const target = (e: TradingEndpoint, region: string) => `${e}.${region}.example.internal`;
const targets = {
  [A]: Object.fromEntries(TRADING_ENDPOINTS.map((e) => [e, target(e, A)])) as Record<TradingEndpoint, string>,
  [B]: Object.fromEntries(TRADING_ENDPOINTS.map((e) => [e, target(e, B)])) as Record<TradingEndpoint, string>,
};

function router() {
  return new Route53WeightedRouter({
    route53: new Route53Client({ region: A }),
    dns: { hostedZoneId: `/hostedzone/${zone}`, records, targets, ttlSeconds: 5 },
    runId: 'run-42',
  });
}

/** Route 53 answers ListResourceRecordSets with FQDNs (trailing dot). */
function weighted(
  e: TradingEndpoint,
  region: string,
  weight: number,
  extra: Partial<ResourceRecordSet> = {},
): ResourceRecordSet {
  return {
    Name: `${records[e]}.`,
    Type: 'CNAME',
    SetIdentifier: region,
    Weight: weight,
    TTL: 5,
    ResourceRecords: [{ Value: target(e, region) }],
    ...extra,
  };
}

/** Each endpoint's list starts at its own name; the page also carries the next name's records, as Route 53 does. */
function zoneWith(
  weights: Record<string, number>,
  extra: (e: TradingEndpoint, region: string) => Partial<ResourceRecordSet> = () => ({}),
) {
  for (const e of TRADING_ENDPOINTS) {
    route53Mock.on(ListResourceRecordSetsCommand, { StartRecordName: records[e] }).resolves({
      ResourceRecordSets: [
        ...Object.entries(weights).map(([region, w]) => weighted(e, region, w, extra(e, region))),
        {
          Name: 'zzz.trading.example.internal.',
          Type: 'A',
          TTL: 60,
          ResourceRecords: [{ Value: '10.0.0.1' }],
        },
      ],
      IsTruncated: false,
      MaxItems: 300,
    });
  }
}

beforeEach(() => {
  route53Mock.reset();
});

describe('Route53WeightedRouter', () => {
  test('activeRegions reports, per trading endpoint, the one region with weight above 0', async () => {
    zoneWith({ [A]: 100, [B]: 0 });
    expect(await router().activeRegions()).toEqual({
      api: A,
      postgresWriter: A,
      kafkaBootstrap: A,
      redis: A,
    });
    expect(route53Mock).toHaveReceivedCommandWith(ListResourceRecordSetsCommand, {
      HostedZoneId: zone,
      StartRecordName: records.api,
      StartRecordType: 'CNAME',
    });
  });

  test('activeRegions reports null when no region or several regions carry weight', async () => {
    zoneWith({ [A]: 0, [B]: 0 });
    expect(Object.values(await router().activeRegions())).toEqual([null, null, null, null]);
    route53Mock.reset();
    zoneWith({ [A]: 50, [B]: 50 });
    expect(Object.values(await router().activeRegions())).toEqual([null, null, null, null]);
  });

  test('routeTo sends one batch UPSERTing both weighted sets of every endpoint, named after the run', async () => {
    zoneWith({ [A]: 100, [B]: 0 });
    route53Mock.on(ChangeResourceRecordSetsCommand).resolves({
      ChangeInfo: { Id: '/change/C2682N5HXP0BZ4', Status: 'PENDING', SubmittedAt: new Date() },
    });

    const result = await router().routeTo(B, { dryRun: false });

    expect(route53Mock).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
    const input = route53Mock.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input;
    expect(input.HostedZoneId).toBe(zone);
    expect(input.ChangeBatch?.Comment).toBe(`tradepulse-dr run run-42: route trading endpoints to ${B}`);
    expect(input.ChangeBatch?.Changes).toHaveLength(8);
    for (const e of TRADING_ENDPOINTS) {
      for (const [region, weight] of [
        [A, 0],
        [B, 100],
      ] as const) {
        expect(input.ChangeBatch?.Changes).toContainEqual({
          Action: 'UPSERT',
          ResourceRecordSet: {
            Name: records[e],
            Type: 'CNAME',
            SetIdentifier: region,
            Weight: weight,
            TTL: 5,
            ResourceRecords: [{ Value: target(e, region) }],
          },
        });
      }
    }
    expect(result).toMatchObject({
      method: 'route53-weighted',
      alreadyDone: false,
      changeId: 'C2682N5HXP0BZ4',
    });
    expect(result.records).toContainEqual({
      name: `${records.api} [${B}]`,
      before: `weight 0 → ${target('api', B)}`,
      after: `weight 100 → ${target('api', B)}`,
    });
    expect(result.records).toContainEqual({
      name: `${records.api} [${A}]`,
      before: `weight 100 → ${target('api', A)}`,
      after: `weight 0 → ${target('api', A)}`,
    });
  });

  test('routeTo keeps a health check already attached to a record set', async () => {
    zoneWith({ [A]: 100, [B]: 0 }, (_e, region) => (region === B ? { HealthCheckId: 'hc-b' } : {}));
    route53Mock
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date() } });
    await router().routeTo(B, { dryRun: false });
    const changes = route53Mock.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input.ChangeBatch!
      .Changes!;
    const bSets = changes.filter((c) => c.ResourceRecordSet?.SetIdentifier === B);
    expect(bSets.every((c) => c.ResourceRecordSet?.HealthCheckId === 'hc-b')).toBe(true);
    expect(
      changes
        .filter((c) => c.ResourceRecordSet?.SetIdentifier === A)
        .some((c) => c.ResourceRecordSet?.HealthCheckId),
    ).toBe(false);
  });

  test('routeTo is a no-op when every endpoint already sends all traffic to the region', async () => {
    zoneWith({ [A]: 0, [B]: 100 });
    const result = await router().routeTo(B, { dryRun: false });
    expect(result.alreadyDone).toBe(true);
    expect(result.changeId).toBeUndefined();
    expect(route53Mock).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect(result.records.every((r) => r.before === r.after)).toBe(true);
  });

  test('routeTo is not a no-op when the weights are right but a target differs from the topology', async () => {
    zoneWith({ [A]: 0, [B]: 100 }, (e, region) =>
      e === 'redis' && region === B ? { ResourceRecords: [{ Value: 'stale.example.internal' }] } : {},
    );
    route53Mock
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: '/change/C2', Status: 'PENDING', SubmittedAt: new Date() } });
    const result = await router().routeTo(B, { dryRun: false });
    expect(result.alreadyDone).toBe(false);
    expect(route53Mock).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
  });

  test('a dry run describes the change and makes no change call', async () => {
    zoneWith({ [A]: 100, [B]: 0 });
    const result = await router().routeTo(B, { dryRun: true });
    expect(route53Mock).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
    expect(result.alreadyDone).toBe(false);
    expect(result.changeId).toBeUndefined();
    expect(result.records).toHaveLength(8);
    expect(result.records).toContainEqual({
      name: `${records.redis} [${B}]`,
      before: `weight 0 → ${target('redis', B)}`,
      after: `weight 100 → ${target('redis', B)}`,
    });
  });

  test('routeTo refuses a region the topology has no targets for, before any call', async () => {
    await expect(router().routeTo('eu-west-1', { dryRun: false })).rejects.toBeInstanceOf(InvalidInputError);
    expect(route53Mock.calls()).toHaveLength(0);
  });

  test('a record set missing from the zone is reported as before: null and created', async () => {
    zoneWith({ [A]: 100 });
    route53Mock
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: '/change/C3', Status: 'PENDING', SubmittedAt: new Date() } });
    const result = await router().routeTo(B, { dryRun: false });
    expect(result.records).toContainEqual({
      name: `${records.kafkaBootstrap} [${B}]`,
      before: null,
      after: `weight 100 → ${target('kafkaBootstrap', B)}`,
    });
  });

  test('observation pages on while Route 53 stays on the same record name', async () => {
    for (const e of TRADING_ENDPOINTS) {
      route53Mock
        .on(ListResourceRecordSetsCommand, { StartRecordName: records[e], StartRecordIdentifier: undefined })
        .resolves({
          ResourceRecordSets: [weighted(e, A, 100)],
          IsTruncated: true,
          NextRecordName: `${records[e]}.`,
          NextRecordType: 'CNAME',
          NextRecordIdentifier: B,
          MaxItems: 1,
        });
      route53Mock
        .on(ListResourceRecordSetsCommand, { StartRecordName: `${records[e]}.`, StartRecordIdentifier: B })
        .resolves({
          ResourceRecordSets: [weighted(e, B, 0)],
          IsTruncated: true,
          NextRecordName: 'zzz.trading.example.internal.',
          NextRecordType: 'A',
          MaxItems: 1,
        });
    }
    const result = await router().routeTo(B, { dryRun: true });
    expect(result.records.filter((r) => r.before !== null)).toHaveLength(8);
    expect(route53Mock).toHaveReceivedCommandTimes(ListResourceRecordSetsCommand, 8);
  });

  test('isChangeComplete is GetChange INSYNC, with the /change/ prefix normalised away', async () => {
    route53Mock
      .on(GetChangeCommand, { Id: 'C1' })
      .resolves({ ChangeInfo: { Id: 'C1', Status: 'INSYNC', SubmittedAt: new Date() } });
    route53Mock
      .on(GetChangeCommand, { Id: 'C2' })
      .resolves({ ChangeInfo: { Id: 'C2', Status: 'PENDING', SubmittedAt: new Date() } });
    expect(await router().isChangeComplete('/change/C1')).toBe(true);
    expect(await router().isChangeComplete('C2')).toBe(false);
    expect(route53Mock).toHaveReceivedCommandWith(GetChangeCommand, { Id: 'C1' });
    expect(normaliseChangeId('/change/XYZ')).toBe('XYZ');
  });

  test('a throttled call the SDK gave up on surfaces as TransientError', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    route53Mock.on(ListResourceRecordSetsCommand).rejects(throttled);
    await expect(router().activeRegions()).rejects.toBeInstanceOf(TransientError);
  });
});
