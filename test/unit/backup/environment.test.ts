/** Where backups come from and go to, from the topology: regions, keys, sources; bad topology named. */
import { InvalidInputError } from '../../../lambdas/shared/errors';
import { backupEnvironmentFromTopology } from '../../../lambdas/shared/backup/environment';
import { backupSourcesFromTopology } from '../../../lambdas/shared/backup/sources';
import { parseTopology } from '../../../lambdas/shared/topology';
import { RDSClient } from '@aws-sdk/client-rds';
import { SOURCE, TARGET, sampleTopologyInput } from '../steps/fakes';

const keys = (region: string) => ({
  dataKeyArn: `arn:aws:kms:${region}:000000000000:key/data`,
  signingKeyArn: `arn:aws:kms:${region}:000000000000:key/signing`,
});

function topology(withKeys = true, postgresKind: 'self-managed' | 'rds' = 'self-managed') {
  const input = sampleTopologyInput();
  for (const region of [SOURCE, TARGET]) {
    const r = input.regions[region]!;
    if (withKeys) r.aws = { ...r.aws, backup: keys(region) };
    if (postgresKind === 'rds')
      r.postgres = {
        ...r.postgres,
        kind: 'rds',
        dbInstanceIdentifier: `tradepulse-${region}`,
      } as typeof r.postgres;
  }
  return parseTopology(input, 'test topology');
}

test('the backup environment of a region: its evidence bucket and its KMS keys', () => {
  expect(backupEnvironmentFromTopology(topology(), TARGET)).toEqual({
    application: 'tradepulse',
    region: TARGET,
    bucket: `tradepulse-dr-evidence-${TARGET}`,
    dataKeyId: keys(TARGET).dataKeyArn,
    signingKeyId: keys(TARGET).signingKeyArn,
  });
});

test('a region without backup keys, or not in the topology, is refused naming what is missing', () => {
  expect(() => backupEnvironmentFromTopology(topology(false), TARGET)).toThrow(InvalidInputError);
  expect(() => backupEnvironmentFromTopology(topology(false), TARGET)).toThrow(
    `regions.${TARGET}.aws.backup.dataKeyArn`,
  );
  expect(() => backupEnvironmentFromTopology(topology(), 'eu-west-1')).toThrow(
    /'eu-west-1' is not in the topology/,
  );
  expect(() =>
    backupSourcesFromTopology(topology(), { sourceRegion: 'eu-west-1', standbyRegion: TARGET }),
  ).toThrow(InvalidInputError);
});

test('self-managed: the primary region’s Redis and Kafka, PostgreSQL through the other region’s standby', () => {
  const sources = backupSourcesFromTopology(topology(), {
    sourceRegion: SOURCE,
    standbyRegion: TARGET,
    pgBinDir: '/pg/bin',
  });
  expect(sources.redis).toEqual({ host: '127.0.0.1', port: 6379 });
  expect(sources.kafka).toMatchObject({
    primaryBrokers: ['127.0.0.1:9092'],
    secondaryBrokers: ['127.0.0.1:9192'],
    sourceAlias: 'a',
    targetAlias: 'b',
    criticalTopics: ['orders', 'fills', 'risk_events'],
    offsetLagMax: 10,
  });
  expect(sources.postgres).toMatchObject({
    standby: { port: 5532 },
    primary: { port: 5432 },
    pgBinDir: '/pg/bin',
  });
  // Without pg_basebackup (a Lambda) there is no PostgreSQL source for a self-managed database.
  expect(
    backupSourcesFromTopology(topology(), { sourceRegion: SOURCE, standbyRegion: TARGET }).postgres,
  ).toBeUndefined();
});

test('RDS: the source instance is snapshotted', () => {
  const sources = backupSourcesFromTopology(topology(true, 'rds'), {
    sourceRegion: SOURCE,
    standbyRegion: TARGET,
    rds: new RDSClient({ region: SOURCE }),
  });
  expect(sources.postgres).toMatchObject({ kind: 'rds-snapshot', identifier: `tradepulse-${SOURCE}` });
});
