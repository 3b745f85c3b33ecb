import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { awsClientConfig } from '../../sandbox/moto';
import { testEndpoints } from './sandbox-fixture';

const endpoints = testEndpoints();
const { resources } = endpoints.aws;
const primary = endpoints.primary.region;
const secondary = endpoints.secondary.region;

describe('the local AWS endpoint (moto) answers the calls the workflows make', () => {
  const route53 = new Route53Client(awsClientConfig(endpoints.aws.endpoint, secondary));
  afterAll(() => route53.destroy());

  test('the trading endpoints are weighted CNAMEs with the primary region at weight 100', async () => {
    const { ResourceRecordSets = [] } = await route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: resources.hostedZoneId }),
    );
    for (const name of Object.values(resources.records)) {
      const sets = ResourceRecordSets.filter((r) => r.Name === `${name}.`);
      expect(sets.map((s) => [s.SetIdentifier, s.Weight]).sort()).toEqual([
        [primary, 100],
        [secondary, 0],
      ]);
    }
  });

  test('an UPSERT of a weighted record returns a change that GetChange reports INSYNC, and reads back', async () => {
    const name = `drill-probe.${resources.hostedZoneName}`;
    const change = await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: resources.hostedZoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: name,
                Type: 'CNAME',
                SetIdentifier: secondary,
                Weight: 100,
                TTL: 5,
                ResourceRecords: [{ Value: 'b.example.internal' }],
              },
            },
          ],
        },
      }),
    );
    const status = await route53.send(new GetChangeCommand({ Id: change.ChangeInfo!.Id! }));
    expect(status.ChangeInfo?.Status).toBe('INSYNC');
    const { ResourceRecordSets = [] } = await route53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: resources.hostedZoneId,
        StartRecordName: name,
        StartRecordType: 'CNAME',
      }),
    );
    expect(ResourceRecordSets.find((r) => r.Name === `${name}.`)?.ResourceRecords?.[0]?.Value).toBe(
      'b.example.internal',
    );
  });

  test('each region holds its own trading flags in SSM, and an overwrite bumps the version', async () => {
    const ssmPrimary = new SSMClient(awsClientConfig(endpoints.aws.endpoint, primary));
    const ssmSecondary = new SSMClient(awsClientConfig(endpoints.aws.endpoint, secondary));
    const name = resources.regional[secondary]!.parameters.strategyActivation;
    try {
      const before = await ssmSecondary.send(new GetParameterCommand({ Name: name }));
      expect(before.Parameter?.Value).toBe('enabled');
      await ssmSecondary.send(
        new PutParameterCommand({ Name: name, Value: 'disabled', Type: 'String', Overwrite: true }),
      );
      const after = await ssmSecondary.send(new GetParameterCommand({ Name: name }));
      expect(after.Parameter?.Value).toBe('disabled');
      expect(after.Parameter?.Version).toBe((before.Parameter?.Version ?? 0) + 1);
      // the primary region's copy is independent
      expect((await ssmPrimary.send(new GetParameterCommand({ Name: name }))).Parameter?.Value).toBe(
        'enabled',
      );
      await ssmSecondary.send(
        new PutParameterCommand({ Name: name, Value: 'enabled', Type: 'String', Overwrite: true }),
      );
    } finally {
      ssmPrimary.destroy();
      ssmSecondary.destroy();
    }
  });
});
