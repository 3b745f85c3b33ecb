import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientConfig } from '../adapters/aws/client-config';
import type { PostgresAdapter } from '../adapters/contracts';
import {
  createPostgresAdapter,
  type AuroraPromotionMode,
  type PostgresAdapterOptions,
} from '../adapters/postgres';
import { InvalidInputError } from '../errors';
import type { PostgresTopology } from '../topology';
import { sameRegionSecretArn, secretPassword } from './database-secret';
import { defineProvider, regionOf } from './provider';
import type { DrDependencies } from '../dependencies';

export interface AuroraPromotion {
  readonly mode: AuroraPromotionMode;
  readonly allowDataLoss: boolean;
}

/**
 * How an Aurora global database is promoted for the run a step event carries:
 * - a failback (`run.workflow: 'failback'`) or a drill is planned, the old primary is healthy:
 *   `switchover` (SwitchoverGlobalCluster, no data loss);
 * - a real failover (`run.mode: 'failover'`): `failover` (FailoverGlobalCluster), with
 *   AllowDataLoss only when the run carries the recorded data-loss decision
 *   (`run.allowDataLoss`, taken at the RPO gate).
 * A dry run promotes nothing; it gets the mode its real run would.
 */
export function auroraPromotionFor(event: unknown): AuroraPromotion {
  const run = (event as { run?: { mode?: unknown; workflow?: unknown; allowDataLoss?: unknown } } | null)
    ?.run;
  if (!run || typeof run.mode !== 'string')
    throw new InvalidInputError(
      'an Aurora global database needs the run ($.run with its mode) to choose between switchover and failover',
    );
  if (run.workflow === 'failback' || run.mode === 'drill')
    return { mode: 'switchover', allowDataLoss: false };
  return { mode: 'failover', allowDataLoss: run.allowDataLoss !== null && run.allowDataLoss !== undefined };
}

/**
 * `postgres`: one adapter (and its connections) per region — and, for Aurora global databases,
 * per promotion mode — for the life of the process. The operator password is read from the
 * secret the topology names, in the orchestrator's own region, unless the caller passes one.
 */
export const postgresProvider = defineProvider<Pick<DrDependencies, 'postgres'>>('postgres', (ctx) => {
  const adapters = new Map<string, PostgresAdapter>();
  let secrets: SecretsManagerClient | undefined;
  const secretsManager = () =>
    (secrets ??= ctx.secretsManager ?? new SecretsManagerClient(awsClientConfig({ region: ctx.region })));
  const passwords = new Map<string, () => Promise<string>>();
  const operatorPassword = (topology: PostgresTopology): PostgresAdapterOptions => {
    if (ctx.postgres?.operatorPassword !== undefined || !topology.passwordSecretArn) return {};
    const arn = sameRegionSecretArn(topology.passwordSecretArn, ctx.region);
    if (!passwords.has(arn)) passwords.set(arn, secretPassword(secretsManager(), arn));
    return { operatorPassword: passwords.get(arn)! };
  };
  const adapterFor = (region: string, event: unknown): PostgresAdapter => {
    const topology = regionOf(ctx.topology, region).postgres;
    const aurora =
      topology.kind === 'aurora-global' ? (ctx.postgres?.aurora ?? auroraPromotionFor(event)) : undefined;
    const key = aurora ? `${region}/${aurora.mode}/${aurora.allowDataLoss}` : region;
    let adapter = adapters.get(key);
    if (!adapter) {
      const rds =
        topology.kind === 'self-managed' ? {} : { rds: ctx.aws(region, 'rds', (c) => new RDSClient(c)) };
      adapter = createPostgresAdapter(topology, {
        ...rds,
        ...operatorPassword(topology),
        ...(aurora ? { aurora } : {}),
        ...ctx.postgres,
      });
      adapters.set(key, adapter);
    }
    return adapter;
  };
  return {
    forRun: (_runId, event) => ({ postgres: (region: string) => adapterFor(region, event) }),
    async close() {
      await Promise.allSettled([...adapters.values()].map((a) => a.close()));
      adapters.clear();
    },
  };
});
