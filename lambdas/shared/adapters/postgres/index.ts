import type { RDSClient } from '@aws-sdk/client-rds';
import { InvalidInputError } from '../../errors';
import type { PostgresTopology } from '../../topology';
import type { PostgresAdapter } from '../contracts';
import { AuroraGlobalPostgresAdapter, type AuroraPromotionMode } from './aurora-global';
import { RdsPostgresAdapter } from './rds';
import { SelfManagedPostgresAdapter } from './self-managed';
import type { PasswordSource, PostgresConnection } from './session';

export {
  AuroraGlobalPostgresAdapter,
  type AuroraGlobalPostgresOptions,
  type AuroraPromotionMode,
} from './aurora-global';
export { RdsPostgresAdapter, type RdsPostgresOptions } from './rds';
export { SelfManagedPostgresAdapter, type SelfManagedPostgresOptions } from './self-managed';
export type { PasswordSource, PostgresConnection } from './session';
export { compareLsn, isReplayComplete, lsnDiffBytes, parseLsn } from './lsn';
export { CANONICAL_TABLES } from './ledger';

export interface PostgresAdapterOptions {
  /** The operator's password, resolved by the caller from the topology's passwordSecretArn. @default none (trust auth) */
  readonly operatorPassword?: PasswordSource;
  /** Lets fencing prove by a real login that the application role is locked out. @default none */
  readonly applicationPassword?: PasswordSource;
  readonly ssl?: PostgresConnection['ssl'];
  readonly connectTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
  /** RDS API client of the topology's own region; required for `rds` and `aurora-global`. */
  readonly rds?: RDSClient;
  /** Required for `aurora-global`: never defaulted, since a failover may lose data. */
  readonly aurora?: { readonly mode: AuroraPromotionMode; readonly allowDataLoss: boolean };
  readonly promotionTimeoutMs?: number;
  readonly pollIntervalMs?: number;
}

/** The adapter for one PostgreSQL node, chosen by the topology's `kind`. */
export function createPostgresAdapter(
  topology: PostgresTopology,
  options: PostgresAdapterOptions = {},
): PostgresAdapter {
  const connection: PostgresConnection = {
    host: topology.host,
    port: topology.port,
    database: topology.database,
    operatorUser: topology.operatorUser,
    applicationUser: topology.applicationUser,
    operatorPassword: options.operatorPassword,
    applicationPassword: options.applicationPassword,
    ssl: options.ssl,
    connectTimeoutMs: options.connectTimeoutMs,
    statementTimeoutMs: options.statementTimeoutMs,
  };
  const timing = { promotionTimeoutMs: options.promotionTimeoutMs, pollIntervalMs: options.pollIntervalMs };
  switch (topology.kind) {
    case 'self-managed':
      return new SelfManagedPostgresAdapter({
        connection,
        pollIntervalMs: options.pollIntervalMs,
        promoteWaitSeconds:
          options.promotionTimeoutMs === undefined ? undefined : Math.ceil(options.promotionTimeoutMs / 1000),
      });
    case 'rds':
      return new RdsPostgresAdapter({
        connection,
        rds: required(options.rds, 'rds', topology.kind),
        dbInstanceIdentifier: topology.dbInstanceIdentifier,
        ...timing,
      });
    case 'aurora-global': {
      const aurora = required(options.aurora, 'aurora', topology.kind);
      return new AuroraGlobalPostgresAdapter({
        connection,
        rds: required(options.rds, 'rds', topology.kind),
        globalClusterIdentifier: topology.globalClusterIdentifier,
        dbClusterArn: topology.dbClusterArn,
        mode: aurora.mode,
        allowDataLoss: aurora.allowDataLoss,
        ...timing,
      });
    }
  }
}

function required<T>(value: T | undefined, option: string, kind: string): T {
  if (value === undefined)
    throw new InvalidInputError(`options.${option} is required for a PostgreSQL topology of kind ${kind}`, {
      option,
      kind,
    });
  return value;
}
