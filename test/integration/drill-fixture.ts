import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SsmTradingFlags } from '../../lambdas/shared/adapters/aws/ssm-flags';
import { DynamoDbLockStore } from '../../lambdas/shared/adapters/aws/dynamodb-lock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { runDrill, type DrillOptions } from '../../drill/run-drill';
import { awsClientConfig } from '../../sandbox/moto';
import type { SandboxEndpoints } from '../../sandbox/endpoints';
import { queryOnce } from '../../sandbox/postgres';
import { redisInfo } from '../../sandbox/redis';

/** A drill on a test sandbox: a short warm-up, light load, approval granted unless the test says otherwise. */
export function testDrill(endpoints: SandboxEndpoints, options: Partial<DrillOptions> = {}) {
  return runDrill({
    endpoints,
    mode: 'drill',
    trigger: 'cli',
    approval: (decide) => decide.approve('jest'),
    ratePerSecond: 30,
    warmupSeconds: 3,
    afterResumeSeconds: 2,
    reportsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tp-drill-')),
    ...options,
  });
}

/** What the world looks like, read straight from the servers and the AWS endpoint. */
export async function observeWorld(endpoints: SandboxEndpoints) {
  const { resources } = endpoints.aws;
  const route53 = new Route53Client(awsClientConfig(endpoints.aws.endpoint, endpoints.secondary.region));
  const { ResourceRecordSets = [] } = await route53.send(
    new ListResourceRecordSetsCommand({ HostedZoneId: resources.hostedZoneId }),
  );
  route53.destroy();
  const routes = Object.fromEntries(
    Object.entries(resources.records).map(([endpoint, name]) => [
      endpoint,
      ResourceRecordSets.filter((r) => r.Name === `${name}.` && (r.Weight ?? 0) > 0).map(
        (r) => r.SetIdentifier,
      ),
    ]),
  );
  const flags = async (region: string) => {
    const ssm = new SSMClient(awsClientConfig(endpoints.aws.endpoint, region));
    try {
      return await new SsmTradingFlags({ ssm, parameters: resources.regional[region]!.parameters }).read();
    } finally {
      ssm.destroy();
    }
  };
  const dynamodb = new DynamoDBClient(awsClientConfig(endpoints.aws.endpoint, endpoints.secondary.region));
  const lock = await new DynamoDbLockStore({
    dynamodb,
    tableName: resources.regional[endpoints.secondary.region]!.lockTable,
  }).current('tradepulse');
  dynamodb.destroy();
  const pgRole = async (port: number) => {
    const [row] = await queryOnce<{ r: boolean; ro: string }>(
      port,
      `select pg_is_in_recovery() as r, current_setting('default_transaction_read_only') as ro`,
    );
    return { inRecovery: row!.r, defaultReadOnly: row!.ro === 'on' };
  };
  return {
    routes,
    flags: {
      primary: await flags(endpoints.primary.region),
      secondary: await flags(endpoints.secondary.region),
    },
    lock,
    postgres: {
      primary: await pgRole(endpoints.primary.postgres.port),
      secondary: await pgRole(endpoints.secondary.postgres.port),
    },
    redis: {
      primary: (await redisInfo(endpoints.primary.redis.port)).role,
      secondary: (await redisInfo(endpoints.secondary.redis.port)).role,
    },
  };
}
