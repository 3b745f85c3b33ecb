/**
 * Standby: wait until everything received has been replayed, so promotion loses nothing
 * the standby already holds. Whether the old primary has more to send is the caller's
 * concern (it fences first). A node that is already a primary has nothing to replay.
 *
 * "Received" can end inside a WAL record: the primary flushes (and streams) whole pages,
 * so when it dies mid-record the standby holds a fragment that no more WAL will ever
 * complete, and replay stays short of the receive position for good. Promotion drops the
 * fragment, and a fragment holds no commit. So replay also counts as complete when the
 * startup process is idle waiting for WAL, replay is not paused, and both positions
 * have not moved for a while.
 */
import { NotReadyYetError } from '../../errors';
import { isReplayComplete, lsnDiffBytes } from './lsn';
import { pollUntil } from './poll';
import { withSession, type PostgresConnection } from './session';

export interface ReplayObservation {
  inRecovery: boolean;
  receiveLsn: string | null;
  replayLsn: string | null;
  walReceiverStatus: string | null;
  /** The startup process's wait event (needs pg_read_all_stats; null otherwise). */
  startupWaitEvent: string | null;
  /** pg_get_wal_replay_pause_state(): 'not paused', 'pause requested' or 'paused'. */
  pauseState: string | null;
  observedAtMs: number;
}

/** Startup-process wait events that mean "replayed all it has, waiting for more WAL". */
const WAITING_FOR_WAL = new Set(['RecoveryWalStream', 'RecoveryRetrieveRetryInterval']);
export const STABLE_MS = 500;

/** Caught up, given this observation and the first of an unbroken run of identical ones before it. */
export function replayCaughtUp(
  current: ReplayObservation,
  stableSince: ReplayObservation | undefined,
): boolean {
  if (!current.inRecovery || isReplayComplete(current.receiveLsn, current.replayLsn)) return true;
  const idle =
    current.startupWaitEvent !== null &&
    WAITING_FOR_WAL.has(current.startupWaitEvent) &&
    current.pauseState === 'not paused';
  return idle && stableSince !== undefined && current.observedAtMs - stableSince.observedAtMs >= STABLE_MS;
}

const samePositions = (a: ReplayObservation, b: ReplayObservation) =>
  a.receiveLsn === b.receiveLsn && a.replayLsn === b.replayLsn;

export async function waitForReplay(
  conn: PostgresConnection,
  timeoutMs: number,
  intervalMs = 100,
): Promise<{ receiveLsn: string | null; replayLsn: string | null; waitedMs: number }> {
  return withSession(conn, async (client) => {
    let stableSince: ReplayObservation | undefined;
    const { value, waitedMs } = await pollUntil<ReplayObservation, ReplayObservation>(
      async () => {
        const { rows } = await client.query<Omit<ReplayObservation, 'observedAtMs'>>(
          `select pg_is_in_recovery() as "inRecovery",
                  pg_last_wal_receive_lsn()::text as "receiveLsn",
                  pg_last_wal_replay_lsn()::text as "replayLsn",
                  (select status from pg_stat_wal_receiver) as "walReceiverStatus",
                  (select wait_event from pg_stat_activity where backend_type = 'startup') as "startupWaitEvent",
                  case when pg_is_in_recovery() then pg_get_wal_replay_pause_state() end as "pauseState"`,
        );
        const current = { ...rows[0]!, observedAtMs: Date.now() };
        if (!stableSince || !samePositions(stableSince, current)) stableSince = current;
        return replayCaughtUp(current, stableSince) ? { done: current } : { observed: current };
      },
      {
        timeoutMs,
        intervalMs,
        onTimeout: (last, waited) =>
          new NotReadyYetError(
            `standby ${conn.host}:${conn.port} has not replayed all received WAL within ${waited} ms ` +
              `(received ${last.receiveLsn}, replayed ${last.replayLsn}, replay ${last.pauseState}, startup waiting on ${last.startupWaitEvent})`,
            {
              ...last,
              pendingBytes:
                last.receiveLsn && last.replayLsn ? lsnDiffBytes(last.receiveLsn, last.replayLsn) : null,
              waitedMs: waited,
            },
          ),
      },
    );
    return { receiveLsn: value.receiveLsn, replayLsn: value.replayLsn, waitedMs };
  });
}
