import { spawn } from 'node:child_process';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { readLedgerAggregates } from '../adapters/postgres/ledger';
import { compareLsn, parseLsn } from '../adapters/postgres/lsn';
import { openSession, type PostgresConnection } from '../adapters/postgres/session';
import type { ArchiveFile, BackupObject, PostgresBackup } from './contracts';
import { BackupFailedError } from './errors';
import type { AppendedEntry } from './tar-index';
import { TarIndexer } from './tar-index';

/**
 * A PostgreSQL base backup whose ledger aggregates describe EXACTLY the backed-up state.
 *
 * Why the paused standby (and not a ledger cut on the primary): the aggregates must be
 * "taken in the same snapshot" as the backup. A base backup of a live primary is only
 * consistent at its end LSN, a point no SQL session can read at; aggregates read before or
 * after differ by whatever committed in between, and a cut at a horizon only bounds that
 * difference. On the streaming standby with WAL replay paused (`pg_wal_replay_pause()`)
 * the database state is frozen at one replay position T: the aggregates read there and a
 * `pg_basebackup` of the standby restored up to T (`recovery_target_lsn = T`, exclusive)
 * are the same state, byte for byte of every row. Pausing replay does not block the
 * primary: the standby keeps RECEIVING and flushing WAL (synchronous_commit on/remote_write
 * waits for that, not for replay); only `remote_apply` would wait, and that is refused
 * below. Replay is resumed in a finally, and the standby catches up from its received WAL.
 *
 * Two details make the restore reach T exactly:
 *  - a standby backup ends at the standby's minRecoveryPoint, which may be before T, and
 *    pg_basebackup -X fetch only includes WAL segments up to that end; any later segment up
 *    to T is appended to the archive from the standby's pg_wal (pg_read_binary_file);
 *  - recovery to an exclusive LSN target needs a complete record at or after T, or it
 *    ends "before the target was reached": a marker record (pg_logical_emit_message, naming
 *    the backup) is written on the primary after the pause and awaited on the standby.
 */
export interface PostgresBackupSource {
  /** The streaming standby the backup is taken from (operator role: superuser). */
  standby: PostgresConnection;
  /** Its primary: checked for remote_apply, and where the marker record is written. */
  primary: PostgresConnection;
  /** Directory of pg_basebackup. */
  pgBinDir: string;
  /** @default 30_000 */
  timeoutMs?: number;
}

/** Consumes the tar archive's bytes (encrypt + upload); resolves with the stored object's description. */
export type PostgresArchiveSink = (archive: NodeJS.ReadableStream) => Promise<BackupObject>;

export interface TakenPostgresArchive {
  object: BackupObject;
  postgres: PostgresBackup;
  takenAt: Date;
  timingsMs: Record<string, number>;
}

const elapsed = (since: number) => Math.round(performance.now() - since);

async function one<T extends pg.QueryResultRow>(client: pg.Client, sql: string, params: unknown[] = []) {
  return (await client.query<T>(sql, params)).rows[0]!;
}

/** WAL segment file name of the segment holding byte `lsn` on `timeline`. */
export function walSegmentName(timeline: number, lsn: bigint, segmentBytes: number): string {
  const segno = lsn / BigInt(segmentBytes);
  const perId = 0x100000000n / BigInt(segmentBytes);
  const hex = (n: bigint | number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(timeline)}${hex(segno / perId)}${hex(segno % perId)}`;
}

function segmentNumber(name: string, segmentBytes: number): bigint {
  const perId = 0x100000000n / BigInt(segmentBytes);
  return BigInt(`0x${name.slice(8, 16)}`) * perId + BigInt(`0x${name.slice(16, 24)}`);
}

/** pg_basebackup -v's stderr: "write-ahead log start point: 0/2000028 on timeline 1", "... end point: 0/2000100". */
export function parseBasebackupLog(stderr: string): {
  startLsn: string | null;
  endLsn: string | null;
  timeline: number | null;
} {
  const start = /write-ahead log start point: ([0-9A-F]+\/[0-9A-F]+) on timeline (\d+)/.exec(stderr);
  const end = /write-ahead log end point: ([0-9A-F]+\/[0-9A-F]+)/.exec(stderr);
  return {
    startLsn: start?.[1] ?? null,
    endLsn: end?.[1] ?? null,
    timeline: start ? Number(start[2]) : null,
  };
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new BackupFailedError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function takePostgresArchive(
  source: PostgresBackupSource,
  backupId: string,
  sink: PostgresArchiveSink,
): Promise<TakenPostgresArchive> {
  const timeoutMs = source.timeoutMs ?? 30_000;
  const timings: Record<string, number> = {};
  const standbyAt = `${source.standby.host}:${source.standby.port}`;
  const standby = await openSession(source.standby);
  let paused = false;
  try {
    // ---- preconditions: a standby, not already paused, a primary that does not wait for replay
    const state = await one<{
      in_recovery: boolean;
      pause: string;
      version: number;
      sysid: string;
      segment: string;
    }>(
      standby,
      `select pg_is_in_recovery() as in_recovery, pg_get_wal_replay_pause_state() as pause,
              current_setting('server_version_num')::int as version,
              (select system_identifier::text from pg_control_system()) as sysid,
              (select setting from pg_settings where name = 'wal_segment_size') as segment`,
    );
    if (!state.in_recovery)
      throw new BackupFailedError(
        `${standbyAt} is not a standby (not in recovery): refusing to pause its replay`,
        {
          reason: 'not-a-standby',
        },
      );
    if (state.pause !== 'not paused')
      throw new BackupFailedError(
        `WAL replay on ${standbyAt} is already ${state.pause} (another backup or an operator paused it): refusing to take over the pause`,
        { reason: 'already-paused' },
      );
    const segmentBytes = Number(state.segment);
    const primaryInfo = await withPrimary(source.primary, (c) =>
      one<{ commit: string; names: string }>(
        c,
        `select current_setting('synchronous_commit') as commit, current_setting('synchronous_standby_names') as names`,
      ),
    );
    if (primaryInfo.commit === 'remote_apply' && primaryInfo.names.trim() !== '')
      throw new BackupFailedError(
        `the primary runs synchronous_commit = remote_apply with synchronous standbys (${primaryInfo.names}): pausing replay would block every commit`,
        { reason: 'remote-apply' },
      );

    // ---- a recent restartpoint: the archive then carries only the WAL since it
    let t = performance.now();
    await recentRestartpoint(source, standby, timeoutMs);
    timings.checkpointMs = elapsed(t);

    // ---- pause, then read the aggregates in the frozen state
    t = performance.now();
    await standby.query('select pg_wal_replay_pause()');
    paused = true;
    await waitFor(`WAL replay to pause on ${standbyAt}`, timeoutMs, async () => {
      return (
        (await one<{ s: string }>(standby, 'select pg_get_wal_replay_pause_state() as s')).s === 'paused'
      );
    });
    const takenAt = new Date();
    timings.pauseMs = elapsed(t);
    t = performance.now();
    const before = (await one<{ lsn: string }>(standby, 'select pg_last_wal_replay_lsn()::text as lsn')).lsn;
    const aggregates = await readLedgerAggregates(source.standby);
    const after = (await one<{ lsn: string }>(standby, 'select pg_last_wal_replay_lsn()::text as lsn')).lsn;
    if (before !== after || aggregates.lsn !== before)
      throw new BackupFailedError(
        `replay moved while the aggregates were read on ${standbyAt} (${before} → ${after}, aggregates at ${aggregates.lsn})`,
        { reason: 'replay-moved' },
      );
    const target = before;
    timings.aggregatesMs = elapsed(t);

    // ---- a complete record after the target, received by the standby
    t = performance.now();
    const marker = await withPrimary(source.primary, (c) =>
      one<{ lsn: string }>(
        c,
        `select pg_logical_emit_message(false, 'tradepulse-dr-backup', $1)::text as lsn`,
        [backupId],
      ),
    );
    await waitFor(`the standby to receive the backup marker at ${marker.lsn}`, timeoutMs, async () => {
      const r = await one<{ lsn: string | null }>(standby, 'select pg_last_wal_receive_lsn()::text as lsn');
      return r.lsn !== null && compareLsn(r.lsn, marker.lsn) >= 0;
    });
    const timeline = (
      await one<{ tli: number }>(standby, 'select timeline_id as tli from pg_control_checkpoint()')
    ).tli;
    timings.markerMs = elapsed(t);

    // ---- pg_basebackup of the paused standby, streamed through the indexer into the sink
    t = performance.now();
    const lastNeeded = walSegmentName(timeline, parseLsn(marker.lsn) - 1n, segmentBytes);
    const appendWal = async function* (files: readonly ArchiveFile[]): AsyncIterable<AppendedEntry> {
      const present = files
        .map((f) => /^pg_wal\/([0-9A-F]{24})$/.exec(f.path)?.[1])
        .filter((n): n is string => n !== undefined && n.startsWith(lastNeeded.slice(0, 8)));
      if (present.length === 0)
        throw new BackupFailedError('the base backup holds no WAL segment', { reason: 'tar' });
      let next = present.map((n) => segmentNumber(n, segmentBytes)).reduce((a, b) => (a > b ? a : b)) + 1n;
      const last = segmentNumber(lastNeeded, segmentBytes);
      for (; next <= last; next++) {
        const name = walSegmentName(timeline, next * BigInt(segmentBytes), segmentBytes);
        yield {
          path: `pg_wal/${name}`,
          bytes: segmentBytes,
          chunks: readServerFile(standby, `pg_wal/${name}`, segmentBytes),
        };
      }
    };
    const indexer = new TarIndexer(appendWal);
    const child = spawn(
      path.join(source.pgBinDir, 'pg_basebackup'),
      [
        '-h',
        source.standby.host,
        '-p',
        String(source.standby.port),
        '-U',
        source.standby.operatorUser,
        '-D',
        '-',
        '-F',
        't',
        '-X',
        'fetch',
        '--checkpoint=fast',
        '--no-password',
        '-v',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PGAPPNAME: 'tradepulse-dr-backup' } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += d.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
    let object: BackupObject;
    try {
      const stored = sink(indexer);
      await Promise.all([pipeline(child.stdout, indexer), stored]);
      object = await stored;
    } catch (err) {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited.catch(() => null);
      // pg_basebackup's own failure (its stderr) explains more than what it left half-written.
      if (code !== 0 && code !== null && stderr.trim())
        throw new BackupFailedError(`pg_basebackup exited with ${code}: ${stderr.trim()}`, {
          reason: 'pg_basebackup',
        });
      if (err instanceof BackupFailedError) throw err;
      throw new BackupFailedError(
        `the base backup of ${standbyAt} failed: ${(err as Error).message}${stderr ? `\n${stderr.trim()}` : ''}`,
        {
          reason: 'pg_basebackup',
        },
      );
    }
    const code = await exited;
    if (code !== 0)
      throw new BackupFailedError(`pg_basebackup exited with ${code}: ${stderr.trim()}`, {
        reason: 'pg_basebackup',
      });
    timings.basebackupMs = elapsed(t);
    const log = parseBasebackupLog(stderr);
    if (log.endLsn && compareLsn(log.endLsn, target) > 0)
      throw new BackupFailedError(
        `the backup ended at ${log.endLsn}, after the paused replay position ${target}: replay was not paused throughout`,
        { reason: 'replay-moved' },
      );
    return {
      object,
      takenAt,
      timingsMs: timings,
      postgres: {
        method: 'pg_basebackup-paused-standby',
        source: standbyAt,
        startLsn: log.startLsn,
        endLsn: log.endLsn,
        timeline: log.timeline ?? timeline,
        systemIdentifier: state.sysid,
        serverVersion: state.version,
        restore: {
          recoveryTargetLsn: target,
          recoveryTargetInclusive: false,
          recoveryTargetAction: 'promote',
        },
        files: indexer.files,
        aggregates,
        aggregatesConsistency: 'same-snapshot',
      },
    };
  } finally {
    if (paused) {
      const t = performance.now();
      try {
        await standby.query('select pg_wal_replay_resume()').catch(() =>
          // The session may have died: resume from a fresh one.
          withStandbyRetry(source.standby),
        );
      } catch (err) {
        // Never leave the standby silently paused: this outranks whatever failed before.
        // eslint-disable-next-line no-unsafe-finally
        throw new BackupFailedError(
          `WAL replay on ${standbyAt} is STILL PAUSED and could not be resumed (${(err as Error).message}): run select pg_wal_replay_resume() there`,
          { reason: 'resume-failed' },
        );
      }
      timings.resumeMs = elapsed(t);
    }
    await standby.end().catch(() => {});
  }
}

/**
 * A backup of a standby starts at its latest restartpoint, made from the last CHECKPOINT
 * record it replayed (pg_basebackup --checkpoint=fast asks for one at once), and the
 * archive carries all WAL from there. After a bulk load that can be more WAL than data, so
 * the primary checkpoints first and the standby replays that record before the pause.
 * Best effort: without the right to CHECKPOINT, or if replay lags past the timeout, the
 * archive is only larger. Returns whether the standby replayed the fresh checkpoint.
 */
async function recentRestartpoint(
  source: PostgresBackupSource,
  standby: pg.Client,
  timeoutMs: number,
): Promise<boolean> {
  let after: string;
  try {
    after = await withPrimary(source.primary, async (c) => {
      await c.query('checkpoint');
      return (await one<{ lsn: string }>(c, 'select pg_current_wal_lsn()::text as lsn')).lsn;
    });
  } catch {
    return false;
  }
  try {
    await waitFor('the standby to replay the fresh checkpoint', timeoutMs, async () => {
      const r = await one<{ lsn: string | null }>(standby, 'select pg_last_wal_replay_lsn()::text as lsn');
      return r.lsn !== null && compareLsn(r.lsn, after) >= 0;
    });
    return true;
  } catch {
    return false;
  }
}

async function withPrimary<T>(conn: PostgresConnection, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = await openSession(conn);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function withStandbyRetry(conn: PostgresConnection): Promise<void> {
  const client = await openSession(conn);
  try {
    await client.query('select pg_wal_replay_resume()');
  } finally {
    await client.end().catch(() => {});
  }
}

/** A server file (relative to its data directory) in 1 MiB chunks (superuser: pg_read_binary_file). */
async function* readServerFile(client: pg.Client, file: string, bytes: number): AsyncIterable<Buffer> {
  const CHUNK = 1024 * 1024;
  for (let offset = 0; offset < bytes; offset += CHUNK) {
    const row = await one<{ data: Buffer }>(client, 'select pg_read_binary_file($1, $2, $3) as data', [
      file,
      offset,
      Math.min(CHUNK, bytes - offset),
    ]);
    yield row.data;
  }
}
