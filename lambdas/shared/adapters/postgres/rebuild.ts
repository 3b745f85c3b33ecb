/**
 * Rebuilds a self-managed old primary (fenced, possibly diverged) as a streaming standby of
 * the new primary:
 *
 * 1. observe both nodes; already a standby streaming from the new primary → nothing to do;
 * 2. clean (fast) shutdown of the old primary, then read its control file;
 * 3. pg_rewind when the control file and the timeline histories allow it (see rebuild-plan.ts),
 *    otherwise (or when pg_rewind fails and the method was not forced) a fresh pg_basebackup;
 * 4. postgresql.auto.conf rewritten for a standby (its own port, primary_conninfo, the slot;
 *    the ALTER SYSTEM read-only fence dropped) and standby.signal;
 * 5. a physical replication slot on the new primary, start, and proof that it streams:
 *    pg_stat_replication on the new primary, pg_stat_wal_receiver on the standby, replay caught
 *    up with the new primary's LSN, and the application role's LOGIN the same on both.
 *
 * The process and the files are reached through a PostgresHostControl (the sandbox's
 * supervisor); everything else is SQL. A crash at any point is re-driven from the start:
 * a stopped node is just not stopped again, a half-copied data directory has no readable
 * control file and gets a base backup.
 */
import type pg from 'pg';
import { RebuildFailedError } from '../../errors';
import type {
  PostgresRebuilder,
  PostgresRebuildMethod,
  PostgresRebuildPlan,
  PostgresRebuildResult,
} from '../contracts';
import { compareLsn } from './lsn';
import { pollUntil } from './poll';
import type { PostgresHostControl } from './rebuild-host';
import {
  decideRebuild,
  historyFileName,
  isCleanShutdown,
  parseControlData,
  parseTimelineHistory,
  standbyAutoConf,
  type ControlData,
  type RebuildDecision,
  type TimelineSwitch,
} from './rebuild-plan';
import { errorMessage, mapErrors, withSession, type PostgresConnection } from './session';

export interface SelfManagedRebuilderOptions {
  /** The new primary (replication source): its operator must be a superuser (pg_rewind reads its files). */
  readonly primary: PostgresConnection;
  /** The old primary to rebuild, as the trading topology names it (its port is kept). */
  readonly replica: PostgresConnection;
  readonly host: PostgresHostControl;
  /** Role with REPLICATION the standby streams as (pg_hba must let it in). */
  readonly replicationUser: string;
  /** application_name of the standby and name of its slot on the new primary. */
  readonly standbyName: string;
  /** Bound on waiting for streaming and catch-up after start. @default 60000 */
  readonly catchUpTimeoutMs?: number;
  /** @default 200 */
  readonly pollIntervalMs?: number;
}

interface PrimaryView {
  reachable: boolean;
  inRecovery: boolean | null;
  systemIdentifier: string | null;
  timeline: number | null;
  lsn: string | null;
  history: TimelineSwitch[];
  standby: { state: string; replayLsn: string | null; syncState: string } | null;
  applicationCanLogin: boolean | null;
  error?: string;
}

interface ReplicaView {
  reachable: boolean;
  inRecovery: boolean | null;
  lsn: string | null;
  replayLsn: string | null;
  receiver: {
    status: string;
    senderHost: string | null;
    senderPort: number | null;
    receivedTli: number | null;
  } | null;
  readOnlyDefault: { value: string; source: string } | null;
  applicationCanLogin: boolean | null;
  running: boolean;
  error?: string;
}

const elapsed = (since: number) => Date.now() - since;

/** Control-file states of a primary that stopped without a shutdown checkpoint. */
const CRASHED_PRIMARY = new Set(['in production', 'in crash recovery']);

export class SelfManagedPostgresRebuilder implements PostgresRebuilder {
  constructor(private readonly opts: SelfManagedRebuilderOptions) {}

  private get where() {
    return `${this.opts.replica.host}:${this.opts.replica.port}`;
  }

  async inspect(): Promise<PostgresRebuildPlan> {
    const [primary, replica] = await Promise.all([this.primaryView(), this.replicaView()]);
    const alreadyReplica = this.isStreamingStandby(primary, replica);
    if (alreadyReplica)
      return {
        alreadyReplica,
        method: null,
        reason: `${this.where} already streams from the new primary`,
        primary: { ...primary },
        replica: { ...replica },
      };
    const decision = await this.decide(primary, replica.lsn);
    return {
      alreadyReplica,
      method: decision.method,
      reason: decision.reason,
      primary: { ...primary },
      replica: { ...replica },
    };
  }

  rebuild(opts: { method: 'auto' | PostgresRebuildMethod }): Promise<PostgresRebuildResult> {
    return mapErrors(() => this.doRebuild(opts.method === 'auto' ? undefined : opts.method));
  }

  private async doRebuild(forced: PostgresRebuildMethod | undefined): Promise<PostgresRebuildResult> {
    const started = Date.now();
    const timingsMs: Record<string, number> = {};
    const [primary, before] = await Promise.all([this.primaryView(), this.replicaView()]);
    if (
      !primary.reachable ||
      primary.inRecovery !== false ||
      !primary.systemIdentifier ||
      primary.timeline === null
    ) {
      throw new RebuildFailedError(
        `the new primary ${this.opts.primary.host}:${this.opts.primary.port} is not a reachable primary: nothing to rebuild from`,
        { primary },
      );
    }
    if (this.isStreamingStandby(primary, before)) {
      return {
        alreadyDone: true,
        method: 'none',
        reason: `${this.where} already streams from the new primary`,
        lsns: { primary: primary.lsn, replicaReplay: before.replayLsn },
        timingsMs: { total: elapsed(started) },
        verification: { primary, replica: before },
      };
    }

    // 1. A clean shutdown: pg_rewind needs one, and the shutdown checkpoint says where the old primary's WAL ends.
    let t = Date.now();
    const endWhileRunning = before.inRecovery === false ? before.lsn : null;
    await this.opts.host.stop();
    let control = await this.controlData();
    if ('control' in control && CRASHED_PRIMARY.has(control.control.clusterState)) {
      // A primary that crashed (or was killed): let it recover and shut down cleanly. It starts fenced (its
      // ALTER SYSTEM read-only default and the application role's missing LOGIN are still in place) and
      // stops again at once.
      await this.opts.host.start();
      await this.opts.host.stop();
      control = await this.controlData();
    }
    if ('control' in control && !isCleanShutdown(control.control)) {
      // Left in recovery by an interrupted rewind or copy (its configuration may be the new primary's own):
      // never started again, and pg_rewind refuses it, so it is copied afresh.
      control = {
        controlError: `not shut down cleanly (cluster state "${control.control.clusterState}": an interrupted rebuild or a crashed standby)`,
      };
    }
    timingsMs.stop = elapsed(t);
    const replicaEndLsn =
      'control' in control ? (control.control.latestCheckpointLsn ?? endWhileRunning) : endWhileRunning;
    const decision = decideRebuild({
      forced,
      replica: control,
      replicaEndLsn,
      primary: {
        systemIdentifier: primary.systemIdentifier,
        timeline: primary.timeline,
        history: primary.history,
      },
    });
    const previousAutoConf = await this.opts.host.readFile('postgresql.auto.conf');

    // 2. The slot first, so the new primary keeps the WAL the standby will ask for.
    const slot = await this.ensureSlot();

    // 3. Rewind or copy.
    t = Date.now();
    let method = decision.method;
    let fallbackFrom: PostgresRebuildResult['fallbackFrom'];
    let toolOutput: string;
    try {
      toolOutput = method === 'pg_rewind' ? await this.rewind() : await this.baseBackup();
    } catch (err) {
      if (method !== 'pg_rewind' || forced) {
        throw new RebuildFailedError(`${method} of ${this.where} failed: ${errorMessage(err)}`, { decision });
      }
      fallbackFrom = { method, error: errorMessage(err).slice(-2000) };
      timingsMs.failedRewind = elapsed(t);
      t = Date.now();
      method = 'pg_basebackup';
      toolOutput = await this.baseBackup();
    }
    timingsMs[method === 'pg_rewind' ? 'rewind' : 'baseBackup'] = elapsed(t);

    // 4. Standby configuration.
    await this.opts.host.writeFile(
      'postgresql.auto.conf',
      standbyAutoConf(previousAutoConf, {
        port: this.opts.replica.port,
        primaryHost: this.opts.primary.host,
        primaryPort: this.opts.primary.port,
        replicationUser: this.opts.replicationUser,
        applicationName: this.opts.standbyName,
        slotName: this.opts.standbyName,
      }),
    );
    await this.opts.host.writeFile('standby.signal', '');

    // 5. Start and prove it streams and catches up.
    t = Date.now();
    await this.opts.host.start();
    timingsMs.start = elapsed(t);
    t = Date.now();
    const caughtUp = await this.awaitStreaming();
    timingsMs.catchUp = elapsed(t);
    const after = caughtUp.replica;
    const afterPrimary = caughtUp.primary;
    if (after.readOnlyDefault?.value === 'on') {
      throw new RebuildFailedError(
        `${this.where} still has default_transaction_read_only on (from ${after.readOnlyDefault.source}) after the rebuild`,
        { after },
      );
    }
    if (after.applicationCanLogin !== afterPrimary.applicationCanLogin) {
      throw new RebuildFailedError(
        `${this.where}: the application role's LOGIN differs from the new primary's`,
        {
          after,
          primary: afterPrimary,
        },
      );
    }
    timingsMs.total = elapsed(started);
    return {
      alreadyDone: false,
      method,
      reason: fallbackFrom
        ? `${decision.reason}; pg_rewind failed, so a fresh base backup was taken`
        : decision.reason,
      ...(fallbackFrom ? { fallbackFrom } : {}),
      lsns: {
        divergenceSwitchpoint: decision.divergence?.switchpoint ?? null,
        oldPrimaryEnd: replicaEndLsn,
        newPrimaryWhenStreaming: caughtUp.targetLsn,
        replicaReplay: after.replayLsn,
      },
      timingsMs,
      verification: {
        primaryTimeline: primary.timeline,
        timelineHistory: primary.history,
        divergence: decision.divergence,
        slot,
        standbyOnPrimary: afterPrimary.standby,
        walReceiver: after.receiver,
        readOnlyDefault: after.readOnlyDefault,
        applicationCanLogin: {
          primary: afterPrimary.applicationCanLogin,
          replica: after.applicationCanLogin,
        },
        // The old primary as found: running or not, in recovery or not, its fence (read-only default, LOGIN).
        oldPrimaryBefore: before,
        clusterStateBefore: 'control' in control ? control.control.clusterState : null,
        toolOutput: toolOutput
          .split(/[\r\n]+/)
          .filter((l) => /diverged|common checkpoint|need to copy|no rewind|Done|backup|error/i.test(l))
          .slice(-8),
      },
    };
  }

  private isStreamingStandby(primary: PrimaryView, replica: ReplicaView): boolean {
    return (
      replica.inRecovery === true &&
      replica.receiver?.status === 'streaming' &&
      replica.receiver.senderPort === this.opts.primary.port &&
      primary.inRecovery === false &&
      primary.standby?.state === 'streaming'
    );
  }

  private async controlData(): Promise<{ control: ControlData } | { controlError: string }> {
    try {
      return {
        control: parseControlData(
          await this.opts.host.runTool('pg_controldata', ['-D', this.opts.host.dataDir]),
        ),
      };
    } catch (err) {
      return { controlError: errorMessage(err).split('\n').slice(-3).join(' ') };
    }
  }

  private async decide(primary: PrimaryView, replicaLsn: string | null): Promise<RebuildDecision> {
    if (!primary.systemIdentifier || primary.timeline === null)
      return { method: 'pg_basebackup', reason: 'the new primary could not be read', divergence: null };
    return decideRebuild({
      replica: await this.controlData(),
      replicaEndLsn: replicaLsn,
      primary: {
        systemIdentifier: primary.systemIdentifier,
        timeline: primary.timeline,
        history: primary.history,
      },
    });
  }

  private sourceConninfo(): string {
    const p = this.opts.primary;
    return `host=${p.host} port=${p.port} user=${p.operatorUser} dbname=${p.database} connect_timeout=5`;
  }

  private async passwordEnv(): Promise<Record<string, string>> {
    const source = this.opts.primary.operatorPassword;
    const password = typeof source === 'function' ? await source() : source;
    return password ? { PGPASSWORD: password } : {};
  }

  private async rewind(): Promise<string> {
    // pg_rewind reads the source's timeline from its control file, which a freshly promoted primary
    // updates only at its next checkpoint: without one it sees the old timeline and rewinds nothing.
    await withSession(this.opts.primary, (client) => client.query('checkpoint'));
    return this.opts.host.runTool(
      'pg_rewind',
      ['--target-pgdata', this.opts.host.dataDir, '--source-server', this.sourceConninfo(), '--progress'],
      await this.passwordEnv(),
    );
  }

  private async baseBackup(): Promise<string> {
    await this.opts.host.emptyDataDir();
    const p = this.opts.primary;
    return this.opts.host.runTool('pg_basebackup', [
      '-h',
      p.host,
      '-p',
      String(p.port),
      '-U',
      this.opts.replicationUser,
      '-D',
      this.opts.host.dataDir,
      '-X',
      'stream',
      '-c',
      'fast',
    ]);
  }

  private async ensureSlot(): Promise<{ name: string; created: boolean }> {
    return withSession(this.opts.primary, async (client) => {
      const { rows } = await client.query<{ created: boolean }>(
        `select case when exists (select 1 from pg_replication_slots where slot_name = $1) then false
                     else (select true from pg_create_physical_replication_slot($1, true)) end as created`,
        [this.opts.standbyName],
      );
      return { name: this.opts.standbyName, created: rows[0]!.created };
    });
  }

  private async awaitStreaming(): Promise<{
    primary: PrimaryView;
    replica: ReplicaView;
    targetLsn: string | null;
  }> {
    let targetLsn: string | null = null;
    const { value } = await pollUntil<{ primary: PrimaryView; replica: ReplicaView }, string>(
      async () => {
        const [primary, replica] = await Promise.all([this.primaryView(), this.replicaView()]);
        if (!this.isStreamingStandby(primary, replica))
          return {
            observed: `standby on primary: ${JSON.stringify(primary.standby)}, WAL receiver: ${JSON.stringify(replica.receiver)}${replica.error ? `, ${replica.error}` : ''}`,
          };
        targetLsn ??= primary.lsn;
        if (!targetLsn || !replica.replayLsn || compareLsn(replica.replayLsn, targetLsn) < 0)
          return { observed: `streaming; replayed ${replica.replayLsn} of ${targetLsn}` };
        return { done: { primary, replica } };
      },
      {
        timeoutMs: this.opts.catchUpTimeoutMs ?? 60_000,
        intervalMs: this.opts.pollIntervalMs ?? 200,
        onTimeout: (last, waited) =>
          new RebuildFailedError(
            `${this.where} was rebuilt but is not a caught-up streaming standby after ${waited} ms: ${last}`,
            {
              last,
            },
          ),
      },
    );
    return { ...value, targetLsn };
  }

  private async primaryView(): Promise<PrimaryView> {
    const conn = this.opts.primary;
    try {
      return await withSession(conn, async (client) => {
        const { rows } = await client.query<{
          in_recovery: boolean;
          system_identifier: string;
          wal_file: string | null;
          lsn: string | null;
          can_login: boolean | null;
        }>(
          `select pg_is_in_recovery() as in_recovery,
                  (select system_identifier::text from pg_control_system()) as system_identifier,
                  case when pg_is_in_recovery() then null else pg_walfile_name(pg_current_wal_lsn()) end as wal_file,
                  case when pg_is_in_recovery() then null else pg_current_wal_lsn()::text end as lsn,
                  (select rolcanlogin from pg_roles where rolname = $1) as can_login`,
          [conn.applicationUser],
        );
        const row = rows[0]!;
        const timeline = row.wal_file ? Number.parseInt(row.wal_file.slice(0, 8), 16) : null;
        const standby = (
          await client.query<{ state: string; replay_lsn: string | null; sync_state: string }>(
            `select state, replay_lsn::text, sync_state from pg_stat_replication where application_name = $1
              order by backend_start desc limit 1`,
            [this.opts.standbyName],
          )
        ).rows[0];
        return {
          reachable: true,
          inRecovery: row.in_recovery,
          systemIdentifier: row.system_identifier,
          timeline,
          lsn: row.lsn,
          history: timeline && timeline > 1 ? await readHistory(client, timeline) : [],
          standby: standby
            ? { state: standby.state, replayLsn: standby.replay_lsn, syncState: standby.sync_state }
            : null,
          applicationCanLogin: row.can_login,
        };
      });
    } catch (err) {
      return {
        reachable: false,
        inRecovery: null,
        systemIdentifier: null,
        timeline: null,
        lsn: null,
        history: [],
        standby: null,
        applicationCanLogin: null,
        error: errorMessage(err),
      };
    }
  }

  private async replicaView(): Promise<ReplicaView> {
    const conn = this.opts.replica;
    const running = await this.opts.host.isRunning();
    try {
      return await withSession(conn, async (client) => {
        const { rows } = await client.query<{
          in_recovery: boolean;
          lsn: string | null;
          replay_lsn: string | null;
          ro_value: string;
          ro_source: string;
          can_login: boolean | null;
        }>(
          `select pg_is_in_recovery() as in_recovery,
                  case when pg_is_in_recovery() then pg_last_wal_receive_lsn()::text else pg_current_wal_lsn()::text end as lsn,
                  pg_last_wal_replay_lsn()::text as replay_lsn,
                  s.setting as ro_value, s.source as ro_source,
                  (select rolcanlogin from pg_roles where rolname = $1) as can_login
             from pg_settings s where s.name = 'default_transaction_read_only'`,
          [conn.applicationUser],
        );
        const row = rows[0]!;
        const receiver = (
          await client.query<{
            status: string;
            sender_host: string | null;
            sender_port: number | null;
            received_tli: number | null;
          }>(`select status, sender_host, sender_port, received_tli from pg_stat_wal_receiver`)
        ).rows[0];
        return {
          reachable: true,
          inRecovery: row.in_recovery,
          lsn: row.lsn,
          replayLsn: row.replay_lsn,
          receiver: receiver
            ? {
                status: receiver.status,
                senderHost: receiver.sender_host,
                senderPort: receiver.sender_port,
                receivedTli: receiver.received_tli,
              }
            : null,
          readOnlyDefault: { value: row.ro_value, source: row.ro_source },
          applicationCanLogin: row.can_login,
          running,
        };
      });
    } catch (err) {
      return {
        reachable: false,
        inRecovery: null,
        lsn: null,
        replayLsn: null,
        receiver: null,
        readOnlyDefault: null,
        applicationCanLogin: null,
        running,
        error: errorMessage(err),
      };
    }
  }
}

/** The new primary's timeline history (superuser: pg_read_file of pg_wal/<tli>.history). */
async function readHistory(client: pg.Client, timeline: number): Promise<TimelineSwitch[]> {
  const { rows } = await client.query<{ content: string | null }>(
    `select pg_read_file($1, 0, 1048576, true) as content`,
    [`pg_wal/${historyFileName(timeline)}`],
  );
  return rows[0]?.content ? parseTimelineHistory(rows[0].content) : [];
}
