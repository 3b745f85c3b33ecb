import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { awsCall, awsErrorName } from '../adapters/aws/aws-call';
import type { LedgerAggregates } from '../adapters/contracts';
import type { PostgresBackup } from './contracts';
import { BackupFailedError } from './errors';

/**
 * The AWS side of a PostgreSQL backup: an RDS DB snapshot (CreateDBSnapshot) or an Aurora
 * cluster snapshot (CreateDBClusterSnapshot), awaited until `available`. The manifest then
 * carries the snapshot's identity instead of archive objects, and the ledger aggregates read
 * on the instance right before the snapshot was requested: RDS offers no way to read SQL "in"
 * a snapshot, so these aggregates are a lower bound (`aggregatesConsistency:
 * 'read-before-snapshot'`) that the validator compares as a ledger horizon.
 */
export interface RdsSnapshotSource {
  kind: 'rds-snapshot' | 'aurora-cluster-snapshot';
  rds: RDSClient;
  /** DB instance identifier (rds-snapshot) or DB cluster identifier (aurora-cluster-snapshot). */
  identifier: string;
  /** Reads the ledger aggregates (and server_version_num) on the writer just before the snapshot. */
  readAggregates(): Promise<{ aggregates: LedgerAggregates; serverVersion: number; endpoint: string }>;
  /** @default 30 minutes */
  timeoutMs?: number;
  /** @default 15 s */
  pollIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Snapshot identifiers: letters, digits, hyphens, starting with a letter, ≤ 255 characters. */
export function snapshotIdentifierFor(backupId: string): string {
  return `tradepulse-${backupId}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

interface SnapshotState {
  status: string;
  arn: string;
  engineVersion: string;
}

async function describe(source: RdsSnapshotSource, id: string): Promise<SnapshotState | null> {
  try {
    if (source.kind === 'rds-snapshot') {
      const out = await awsCall(() =>
        source.rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id })),
      );
      const s = out.DBSnapshots?.[0];
      return s
        ? { status: s.Status ?? 'unknown', arn: s.DBSnapshotArn ?? '', engineVersion: s.EngineVersion ?? '' }
        : null;
    }
    const out = await awsCall(() =>
      source.rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id })),
    );
    const s = out.DBClusterSnapshots?.[0];
    return s
      ? {
          status: s.Status ?? 'unknown',
          arn: s.DBClusterSnapshotArn ?? '',
          engineVersion: s.EngineVersion ?? '',
        }
      : null;
  } catch (err) {
    const name = awsErrorName(err) ?? (err as { details?: { awsError?: string } }).details?.awsError;
    if (name === 'DBSnapshotNotFoundFault' || name === 'DBClusterSnapshotNotFoundFault') return null;
    if (/NotFound/.test((err as Error).name ?? '') || /not found/i.test((err as Error).message ?? ''))
      return null;
    throw err;
  }
}

export async function takeRdsSnapshot(
  source: RdsSnapshotSource,
  backupId: string,
): Promise<{ postgres: PostgresBackup; takenAt: Date; timingsMs: Record<string, number> }> {
  const id = snapshotIdentifierFor(backupId);
  const timeoutMs = source.timeoutMs ?? 30 * 60_000;
  const poll = source.pollIntervalMs ?? 15_000;
  const sleep = source.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const timings: Record<string, number> = {};
  let t = performance.now();
  const read = await source.readAggregates();
  timings.aggregatesMs = Math.round(performance.now() - t);
  const takenAt = new Date();
  t = performance.now();
  // Idempotent: a snapshot of this backup that already exists (a retry) is awaited, not created again.
  if ((await describe(source, id)) === null) {
    const tags = [
      { Key: 'tradepulse:backup-id', Value: backupId },
      { Key: 'tradepulse:purpose', Value: 'dr-backup' },
    ];
    if (source.kind === 'rds-snapshot')
      await awsCall(() =>
        source.rds.send(
          new CreateDBSnapshotCommand({
            DBInstanceIdentifier: source.identifier,
            DBSnapshotIdentifier: id,
            Tags: tags,
          }),
        ),
      );
    else
      await awsCall(() =>
        source.rds.send(
          new CreateDBClusterSnapshotCommand({
            DBClusterIdentifier: source.identifier,
            DBClusterSnapshotIdentifier: id,
            Tags: tags,
          }),
        ),
      );
  }
  const deadline = Date.now() + timeoutMs;
  let state: SnapshotState | null;
  for (;;) {
    state = await describe(source, id);
    if (state?.status === 'available') break;
    if (state && ['failed', 'deleted', 'deleting', 'incompatible-restore'].includes(state.status))
      throw new BackupFailedError(`snapshot ${id} of ${source.identifier} is ${state.status}`, {
        reason: 'snapshot-failed',
        snapshot: id,
      });
    if (Date.now() > deadline)
      throw new BackupFailedError(
        `snapshot ${id} of ${source.identifier} was not available after ${timeoutMs} ms (${state?.status ?? 'absent'})`,
        {
          reason: 'snapshot-timeout',
          snapshot: id,
        },
      );
    await sleep(poll);
  }
  timings.snapshotMs = Math.round(performance.now() - t);
  return {
    takenAt,
    timingsMs: timings,
    postgres: {
      method: source.kind,
      source: read.endpoint,
      startLsn: null,
      endLsn: null,
      timeline: null,
      systemIdentifier: null,
      serverVersion: read.serverVersion,
      restore: null,
      files: [],
      aggregates: read.aggregates,
      aggregatesConsistency: 'read-before-snapshot',
      snapshot: { identifier: id, arn: state.arn, engineVersion: state.engineVersion },
    },
  };
}
