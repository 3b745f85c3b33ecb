import type pg from 'pg';
import type { PostgresNodeStatus } from '../contracts';
import { isReplayComplete, lsnDiffBytes, timelineOfWalFile } from './lsn';
import { errorMessage, openSession, type PostgresConnection } from './session';

interface RoleRow {
  in_recovery: boolean;
  read_only_default: string;
  app_transactions: string;
}

interface PrimaryRow {
  lsn: string;
  wal_file: string;
}

interface StandbyRow {
  receive_lsn: string | null;
  replay_lsn: string | null;
  replay_delay_seconds: string | null;
  wal_receiver_status: string | null;
  received_tli: number | null;
}

/**
 * What one fresh session sees of a node. Never throws: an unreachable node is a status
 * too, and a reachable node whose state could not be read is reported with the error.
 */
export async function readStatus(conn: PostgresConnection): Promise<PostgresNodeStatus> {
  let client: pg.Client;
  try {
    client = await openSession(conn);
  } catch (err) {
    return unknownStatus(false, err);
  }
  try {
    return await statusOf(client, conn.applicationUser);
  } catch (err) {
    return unknownStatus(true, err);
  } finally {
    await client.end().catch(() => {});
  }
}

const unknownStatus = (reachable: boolean, err: unknown): PostgresNodeStatus => ({
  reachable,
  role: 'unknown',
  // Unknown is not "refuses writes": a step must never take such a node as fenced.
  readOnly: false,
  lsn: null,
  replayLsn: null,
  replayPendingBytes: null,
  replayDelaySeconds: null,
  walReceiverStatus: null,
  timeline: null,
  activeApplicationTransactions: 0,
  error: errorMessage(err),
});

async function statusOf(client: pg.Client, applicationUser: string): Promise<PostgresNodeStatus> {
  const { rows } = await client.query<RoleRow>(
    `select pg_is_in_recovery() as in_recovery,
            current_setting('default_transaction_read_only') as read_only_default,
            (select count(*) from pg_stat_activity
              where usename = $1 and xact_start is not null and pid <> pg_backend_pid())::text as app_transactions`,
    [applicationUser],
  );
  const row = rows[0]!;
  const common = { reachable: true, activeApplicationTransactions: Number(row.app_transactions) };
  if (!row.in_recovery) {
    const primary = (
      await client.query<PrimaryRow>(
        `select lsn::text, pg_walfile_name(lsn) as wal_file from pg_current_wal_lsn() as lsn`,
      )
    ).rows[0]!;
    return {
      ...common,
      role: 'primary',
      readOnly: row.read_only_default === 'on',
      lsn: primary.lsn,
      replayLsn: null,
      replayPendingBytes: null,
      replayDelaySeconds: null,
      walReceiverStatus: null,
      // The WAL being written names the current timeline at once; pg_control_checkpoint()
      // lags behind a promotion until the next checkpoint.
      timeline: timelineOfWalFile(primary.wal_file),
    };
  }
  const standby = (
    await client.query<StandbyRow>(
      `select pg_last_wal_receive_lsn()::text as receive_lsn,
              pg_last_wal_replay_lsn()::text as replay_lsn,
              extract(epoch from now() - pg_last_xact_replay_timestamp())::text as replay_delay_seconds,
              (select status from pg_stat_wal_receiver) as wal_receiver_status,
              (select received_tli from pg_stat_wal_receiver) as received_tli`,
    )
  ).rows[0]!;
  const pending =
    standby.receive_lsn && standby.replay_lsn
      ? Math.max(0, lsnDiffBytes(standby.receive_lsn, standby.replay_lsn))
      : null;
  return {
    ...common,
    role: 'standby',
    readOnly: true,
    lsn: standby.receive_lsn,
    replayLsn: standby.replay_lsn,
    replayPendingBytes: pending,
    // The last replayed commit's age keeps growing on an idle primary although nothing is pending.
    replayDelaySeconds: isReplayComplete(standby.receive_lsn, standby.replay_lsn)
      ? 0
      : standby.replay_delay_seconds === null
        ? null
        : Number(standby.replay_delay_seconds),
    walReceiverStatus: standby.wal_receiver_status,
    timeline: standby.received_tli ?? (await checkpointTimeline(client)),
  };
}

/** The last restart point's timeline, when the WAL receiver is not running; needs the rights to read pg_control. */
async function checkpointTimeline(client: pg.Client): Promise<number | null> {
  try {
    return (
      (await client.query<{ tli: number }>(`select timeline_id as tli from pg_control_checkpoint()`)).rows[0]
        ?.tli ?? null
    );
  } catch {
    return null;
  }
}
