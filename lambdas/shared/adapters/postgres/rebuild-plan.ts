/**
 * The pure half of rebuilding an old PostgreSQL primary as a standby of the new one: reading
 * pg_controldata and timeline history files, choosing pg_rewind or a fresh pg_basebackup
 * (and saying why), and writing the standby's postgresql.auto.conf.
 *
 * pg_rewind can rewind the old primary when it is a copy of the same database system (same
 * system identifier), hint-bit changes are WAL-logged (data checksums or wal_log_hints) and
 * it was shut down cleanly; it then finds the divergence point from the timeline histories
 * and copies only the blocks changed since. Anything else (a different system, no usable
 * control file, neither checksums nor wal_log_hints, a rewind that fails because WAL it
 * needs is gone) takes a fresh base backup.
 */
import { InvalidInputError } from '../../errors';
import type { PostgresRebuildMethod, PostgresRebuildPlan, PostgresRebuildResult } from '../contracts';
import { compareLsn, parseLsn } from './lsn';

/** The fields of `pg_controldata` output the rebuild reads. */
export interface ControlData {
  systemIdentifier: string;
  /** `shut down`, `shut down in recovery`, `in production`, `in archive recovery`, … */
  clusterState: string;
  latestCheckpointLsn: string | null;
  timeline: number | null;
  dataChecksums: boolean;
  walLogHints: boolean;
  raw: Record<string, string>;
}

export function parseControlData(output: string): ControlData {
  const raw: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    raw[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  const systemIdentifier = raw['Database system identifier'];
  const clusterState = raw['Database cluster state'];
  if (!systemIdentifier || !clusterState)
    throw new Error(
      `not pg_controldata output (no system identifier or cluster state): ${output.slice(0, 200)}`,
    );
  const lsn = raw['Latest checkpoint location'];
  const tli = Number(raw["Latest checkpoint's TimeLineID"]);
  return {
    systemIdentifier,
    clusterState,
    latestCheckpointLsn: lsn && /^[0-9A-F]+\/[0-9A-F]+$/i.test(lsn) ? lsn : null,
    timeline: Number.isInteger(tli) && tli > 0 ? tli : null,
    dataChecksums: Number(raw['Data page checksum version'] ?? '0') > 0,
    walLogHints: raw['wal_log_hints setting'] === 'on',
    raw,
  };
}

export const isCleanShutdown = (c: ControlData) =>
  c.clusterState === 'shut down' || c.clusterState === 'shut down in recovery';

/** One line of a `<timeline>.history` file: timeline `parent` ended at `switchpoint` (the next one began there). */
export interface TimelineSwitch {
  parent: number;
  switchpoint: string;
  reason: string;
}

/** `0000000N.history`: `parentTLI<TAB>switchpoint<TAB>reason` lines; comments and blank lines ignored. */
export function parseTimelineHistory(content: string): TimelineSwitch[] {
  const switches: TimelineSwitch[] = [];
  for (const line of content.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const [parent, switchpoint, ...reason] = trimmed.split(/\s+/);
    const tli = Number(parent);
    if (!Number.isInteger(tli) || tli < 1 || !switchpoint)
      throw new Error(`malformed timeline history line: ${line}`);
    parseLsn(switchpoint);
    switches.push({ parent: tli, switchpoint, reason: reason.join(' ') });
  }
  return switches;
}

/** `00000002.history` for timeline 2. */
export const historyFileName = (timeline: number) =>
  `${timeline.toString(16).toUpperCase().padStart(8, '0')}.history`;

export interface RebuildDecisionInput {
  forced?: PostgresRebuildMethod;
  /** The old primary's control file, or why it could not be read. */
  replica: { control: ControlData } | { controlError: string };
  /** Where the old primary's WAL ends (its current LSN while running, its shutdown checkpoint once stopped). */
  replicaEndLsn: string | null;
  primary: { systemIdentifier: string; timeline: number; history: TimelineSwitch[] };
}

export interface RebuildDecision {
  method: PostgresRebuildMethod;
  reason: string;
  /** Where the old primary's timeline left the new primary's history, when it is an ancestor. */
  divergence: {
    timeline: number;
    switchpoint: string;
    replicaEndLsn: string | null;
    diverged: boolean | null;
  } | null;
}

/** Where timeline `tli` ended in a history (null when it is not an ancestor there). */
function switchpointOf(history: TimelineSwitch[], tli: number): string | null {
  return history.find((s) => s.parent === tli)?.switchpoint ?? null;
}

/** Picks the method (or checks a forced one) from what the control file and the timelines say. */
export function decideRebuild(input: RebuildDecisionInput): RebuildDecision {
  const { primary } = input;
  if ('controlError' in input.replica) {
    return {
      method: 'pg_basebackup',
      reason: `the old primary's control file could not be read (${input.replica.controlError}): nothing to rewind, taking a fresh base backup`,
      divergence: null,
    };
  }
  const control = input.replica.control;
  const tli = control.timeline;
  let divergence: RebuildDecision['divergence'] = null;
  let history = '';
  if (tli !== null) {
    const switchpoint = switchpointOf(primary.history, tli);
    if (tli === primary.timeline) {
      history = `both on timeline ${tli}: pg_rewind finds the common point (nothing to rewind if the old primary is behind)`;
    } else if (switchpoint) {
      const diverged = input.replicaEndLsn === null ? null : compareLsn(input.replicaEndLsn, switchpoint) > 0;
      divergence = { timeline: tli, switchpoint, replicaEndLsn: input.replicaEndLsn, diverged };
      history =
        `its timeline ${tli} is in the new primary's history (timeline ${primary.timeline} began at ${switchpoint}); ` +
        (diverged === null
          ? 'where its WAL ends is unknown'
          : diverged
            ? `its WAL goes on to ${input.replicaEndLsn}, past the switch: diverged, pg_rewind rewinds it to ${switchpoint}`
            : `its WAL ends at ${input.replicaEndLsn}, not past the switch: no divergence`);
    } else {
      history = `its timeline ${tli} is not in the new primary's history (timeline ${primary.timeline}); pg_rewind looks for the common ancestor in both histories`;
    }
  }
  const blockers: string[] = [];
  if (control.systemIdentifier !== primary.systemIdentifier)
    blockers.push(
      `a different database system (identifier ${control.systemIdentifier}, new primary ${primary.systemIdentifier})`,
    );
  if (!control.dataChecksums && !control.walLogHints)
    blockers.push('neither data checksums nor wal_log_hints were on, so hint-bit changes are not in the WAL');
  if (input.forced === 'pg_basebackup')
    return {
      method: 'pg_basebackup',
      reason: `pg_basebackup requested${history ? `; ${history}` : ''}`,
      divergence,
    };
  if (blockers.length > 0) {
    if (input.forced === 'pg_rewind')
      throw new Error(`pg_rewind requested but it cannot be used: ${blockers.join('; ')}`);
    return {
      method: 'pg_basebackup',
      reason: `pg_rewind cannot be used: ${blockers.join('; ')}; taking a fresh base backup`,
      divergence,
    };
  }
  return {
    method: 'pg_rewind',
    reason: `${input.forced ? 'pg_rewind requested' : 'same database system with WAL-logged hint bits'}${history ? `; ${history}` : ''}`,
    divergence,
  };
}

/** Settings the rebuild owns in the standby's postgresql.auto.conf; older values of these are dropped. */
const OWNED_SETTINGS = new Set([
  'port',
  'primary_conninfo',
  'primary_slot_name',
  'synchronous_standby_names',
  // The old primary's fence (ALTER SYSTEM, see fencing.ts): a standby is read-only by recovery, and once it
  // is promoted again it must take writes.
  'default_transaction_read_only',
]);

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

export interface StandbySettings {
  port: number;
  primaryHost: string;
  primaryPort: number;
  replicationUser: string;
  applicationName: string;
  slotName: string;
}

/**
 * The standby's postgresql.auto.conf: what the node had before the rebuild (pg_rewind and
 * pg_basebackup both bring the new primary's copy, with the new primary's port and its own
 * primary_conninfo) minus the settings this rebuild owns, then those settings. It is asynchronous
 * (synchronous_standby_names empty), so once promoted it waits for no standby until told to.
 */
export function standbyAutoConf(previous: string | null, s: StandbySettings): string {
  const kept = (previous ?? '').split('\n').filter((line) => {
    const key = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=/.exec(line)?.[1]?.toLowerCase();
    if (key) return !OWNED_SETTINGS.has(key);
    return (
      line.trim() !== '' &&
      !/^#\s*(Do not edit|It will be overwritten|written by the tradepulse-dr)/i.test(line.trim())
    );
  });
  const conninfo = `host=${s.primaryHost} port=${s.primaryPort} user=${s.replicationUser} application_name=${s.applicationName}`;
  return [
    '# Do not edit this file manually!',
    '# It will be overwritten by the ALTER SYSTEM command.',
    '# written by the tradepulse-dr rebuild: a streaming standby of the new primary',
    ...kept,
    `port = ${s.port}`,
    `primary_conninfo = ${quote(conninfo)}`,
    `primary_slot_name = ${quote(s.slotName)}`,
    `synchronous_standby_names = ''`,
    '',
  ].join('\n');
}

/** application_name and replication slot of a region's standby: `standby_us_east_1`. */
export function standbyNameFor(region: string): string {
  return `standby_${region.toLowerCase().replace(/[^a-z0-9]/g, '_')}`.slice(0, 63);
}

/** A managed service (RDS, Aurora) has one way to rebuild: a self-managed method asked of it is refused. */
export function refuseSelfManagedMethod(
  method: 'auto' | PostgresRebuildMethod,
  service: string,
  mechanism: string,
): void {
  if (method !== 'auto')
    throw new InvalidInputError(
      `${method} applies to self-managed PostgreSQL; ${service} rebuilds with ${mechanism}`,
    );
}

/** The result of a rebuild that found the node already replicating from the new primary. */
export function alreadyReplicaResult(plan: PostgresRebuildPlan, startedMs: number): PostgresRebuildResult {
  return {
    alreadyDone: true,
    method: 'none',
    reason: plan.reason,
    lsns: {},
    timingsMs: { total: Date.now() - startedMs },
    verification: { primary: plan.primary, replica: plan.replica },
  };
}
