import net from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { awsClientCache } from '../../../lambdas/shared/adapters/aws/client-config';
import { InvalidInputError } from '../../../lambdas/shared/errors';
import {
  passwordFromSecretString,
  sameRegionSecretArn,
  secretPassword,
} from '../../../lambdas/shared/providers/database-secret';
import { auroraPromotionFor, postgresProvider } from '../../../lambdas/shared/providers/postgres';
import { openProviders } from '../../../lambdas/shared/providers/provider';
import { smokeSinkProvider } from '../../../lambdas/shared/providers/smoke-sink';
import type { Topology } from '../../../lambdas/shared/topology';
import { SOURCE, TARGET, sampleRun, sampleTopology } from '../steps/fakes';

const secretsMock = mockClient(SecretsManagerClient);
beforeEach(() => secretsMock.reset());

const PRIMARY_SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:tradepulse/dr-operator-AbCdEf';
const REPLICA_IN_TARGET =
  'arn:aws:secretsmanager:us-west-2:111122223333:secret:tradepulse/dr-operator-AbCdEf';

describe('database secrets, read in the orchestrator’s region', () => {
  test('the replica ARN differs only in the region', () => {
    expect(sameRegionSecretArn(PRIMARY_SECRET, TARGET)).toBe(REPLICA_IN_TARGET);
    expect(sameRegionSecretArn(REPLICA_IN_TARGET, TARGET)).toBe(REPLICA_IN_TARGET);
    expect(() => sameRegionSecretArn('arn:aws:ssm:us-east-1:111122223333:parameter/x', TARGET)).toThrow(
      InvalidInputError,
    );
  });

  test('the password is the `password` field of RDS-style JSON, or the whole string', () => {
    expect(passwordFromSecretString('{"username":"dr_operator","password":"s3cret"}', 'x')).toBe('s3cret');
    expect(passwordFromSecretString('plain-s3cret', 'x')).toBe('plain-s3cret');
    expect(() => passwordFromSecretString('{"username":"dr_operator"}', 'arn:x')).toThrow(
      /secret arn:x is JSON without a non-empty "password" field/,
    );
    expect(() => passwordFromSecretString('', 'arn:x')).toThrow(/secret arn:x is empty/);
  });

  test('GetSecretValue once per TTL, not once per connection; a binary secret is refused', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '{"password":"one"}' });
    let now = 0;
    const source = secretPassword(new SecretsManagerClient({ region: TARGET }), REPLICA_IN_TARGET, {
      ttlMs: 1000,
      now: () => now,
    });
    expect(await source()).toBe('one');
    now = 999;
    expect(await source()).toBe('one');
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '{"password":"rotated"}' });
    now = 1000;
    expect(await source()).toBe('rotated');
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);

    secretsMock.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1]) });
    await expect(secretPassword(new SecretsManagerClient({ region: TARGET }), 'arn:b')()).rejects.toThrow(
      /secret arn:b has no SecretString/,
    );
  });
});

/**
 * A PostgreSQL server that asks for a cleartext password, records what it gets and refuses
 * the login: enough to see which password a deployed step sends, without a database.
 */
async function passwordCatcher(): Promise<{ port: number; passwords: string[]; close(): Promise<void> }> {
  const passwords: string[] = [];
  const server = net.createServer((socket) => {
    let buffer = Buffer.alloc(0);
    let started = false;
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!started && buffer.length >= 4 && buffer.length >= buffer.readInt32BE(0)) {
        buffer = buffer.subarray(buffer.readInt32BE(0));
        started = true;
        const ask = Buffer.alloc(9);
        ask.write('R', 0);
        ask.writeInt32BE(8, 1);
        ask.writeInt32BE(3, 5); // AuthenticationCleartextPassword
        socket.write(ask);
      }
      if (started && buffer.length >= 5 && buffer[0] === 'p'.charCodeAt(0)) {
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) return;
        passwords.push(buffer.subarray(5, length).toString('utf8').replace(/\0$/, ''));
        const fields = Buffer.from('SFATAL\0C28P01\0Mpassword recorded by the test\0\0', 'utf8');
        const error = Buffer.alloc(5);
        error.write('E', 0);
        error.writeInt32BE(4 + fields.length, 1);
        socket.end(Buffer.concat([error, fields]));
        buffer = Buffer.alloc(0);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    passwords,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('the postgres and smoke-sink providers as a deployed step opens them', () => {
  const topologyWith = (port: number): Topology => {
    const topology = sampleTopology();
    for (const region of [SOURCE, TARGET]) {
      const pg = topology.regions[region]!.postgres;
      topology.regions[region]!.postgres = {
        ...pg,
        host: '127.0.0.1',
        port,
        passwordSecretArn: `arn:aws:secretsmanager:${region}:111122223333:secret:tradepulse/dr-operator-AbCdEf`,
      } as typeof pg;
    }
    return topology;
  };
  const context = (topology: Topology) => ({
    topology,
    region: TARGET,
    aws: awsClientCache((region) => ({ region })).client,
    secretsManager: new SecretsManagerClient({
      region: TARGET,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
  });

  test('the operator password sent to either region’s database is the secret’s replica in the orchestrator’s region', async () => {
    const server = await passwordCatcher();
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '{"password":"from-us-west-2"}' });
    const providers = openProviders(context(topologyWith(server.port)), postgresProvider, smokeSinkProvider);
    try {
      const deps = providers.forRun('unit-run-1', { run: sampleRun() });
      await deps.postgres(SOURCE).status();
      await deps.postgres(TARGET).status();
      await expect(deps.smokeSink(TARGET).placeOrdersAndRollBack('unit-run-1', [])).rejects.toThrow(
        /password recorded by the test/,
      );
      expect(server.passwords.length).toBeGreaterThanOrEqual(3);
      expect(new Set(server.passwords)).toEqual(new Set(['from-us-west-2']));
      const asked = secretsMock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId);
      expect(new Set(asked)).toEqual(new Set([REPLICA_IN_TARGET]));
    } finally {
      await providers.close();
      await server.close();
    }
  });

  test('a database without a secret is reached without calling Secrets Manager', async () => {
    const topology = sampleTopology();
    const providers = openProviders(context(topology), postgresProvider);
    try {
      providers.forRun('unit-run-1', { run: sampleRun() }).postgres(TARGET);
      expect(secretsMock).not.toHaveReceivedCommand(GetSecretValueCommand);
    } finally {
      await providers.close();
    }
  });
});

describe('Aurora global promotion follows the run', () => {
  test('a drill or a failback switches over; a real failover fails over, losing data only with the recorded decision', () => {
    expect(auroraPromotionFor({ run: sampleRun({ mode: 'drill' }) })).toEqual({
      mode: 'switchover',
      allowDataLoss: false,
    });
    expect(auroraPromotionFor({ run: { ...sampleRun({ mode: 'failover' }), workflow: 'failback' } })).toEqual(
      {
        mode: 'switchover',
        allowDataLoss: false,
      },
    );
    expect(auroraPromotionFor({ run: sampleRun({ mode: 'failover' }) })).toEqual({
      mode: 'failover',
      allowDataLoss: false,
    });
    expect(
      auroraPromotionFor({
        run: sampleRun({
          mode: 'failover',
          allowDataLoss: { approvedBy: 'duty manager', reason: 'primary region lost for hours' },
        }),
      }),
    ).toEqual({ mode: 'failover', allowDataLoss: true });
    expect(() => auroraPromotionFor({ execution: { name: 'x' } })).toThrow(InvalidInputError);
  });

  test('the deployed postgres provider builds the Aurora adapter from the event’s run, and refuses an event without one', async () => {
    const topology = sampleTopology();
    topology.regions[TARGET]!.postgres = {
      kind: 'aurora-global',
      host: 'aurora.usw2.tradepulse.internal',
      port: 5432,
      database: 'trading',
      operatorUser: 'dr_operator',
      applicationUser: 'trading_app',
      globalClusterIdentifier: 'tradepulse-global',
      dbClusterArn: 'arn:aws:rds:us-west-2:111122223333:cluster:tradepulse-usw2',
    };
    const providers = openProviders(
      {
        topology,
        region: TARGET,
        aws: awsClientCache((region) => ({ region })).client,
      },
      postgresProvider,
    );
    try {
      expect(() =>
        providers.forRun('r', { run: sampleRun({ mode: 'drill' }) }).postgres(TARGET),
      ).not.toThrow();
      expect(() => providers.forRun('r', { execution: { name: 'r' } }).postgres(TARGET)).toThrow(
        /an Aurora global database needs the run/,
      );
    } finally {
      await providers.close();
    }
  });
});
