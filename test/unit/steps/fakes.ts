/**
 * In-memory fakes of every adapter contract a step may touch, with state the tests can
 * inspect and set. Each fake follows the contract's observe-before-act rule: a mutating
 * call whose goal already holds returns `alreadyDone: true` and changes nothing.
 *
 * Every fake logs its calls (`calls`) and the changes it actually made (`mutations`), so a
 * test can assert both "no mutating method was called" (dry runs) and "nothing changed"
 * (observe-before-act, idempotency). Calls made with `{ dryRun: true }` are planning calls
 * and never count as mutating.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type {
  DnsCutoverResult,
  EventPublisher,
  EvidenceStore,
  KafkaAdapter,
  LedgerAggregates,
  LockLease,
  LockStore,
  Notifier,
  PostgresAdapter,
  PostgresNodeStatus,
  RedisAdapter,
  RunRecordStore,
  TopicReplicationLag,
  TradingFlags,
  TrafficRouter,
  TranslatedGroupOffsets,
} from '../../../lambdas/shared/adapters/contracts';
import type { AcknowledgedJournal, DrDependencies } from '../../../lambdas/shared/dependencies';
import { LockHeldError, NotReadyYetError } from '../../../lambdas/shared/errors';
import type { Run } from '../../../lambdas/shared/run';
import type { StepClock } from '../../../lambdas/shared/step';
import {
  parseTopology,
  TRADING_ENDPOINTS,
  type Topology,
  type TopologyInput,
  type TradingEndpoint,
} from '../../../lambdas/shared/topology';
import type { SmokeDependencies } from '../../../lambdas/run-smoke-harness/logic';
import type { SmokeOrderResult, SmokeSink } from '../../../lambdas/run-smoke-harness/postgres-smoke-sink';
import type { Signal } from '../../../lambdas/run-smoke-harness/signals';

// ---------------------------------------------------------------- topology and run

export const SOURCE = 'us-east-1';
export const TARGET = 'us-west-2';
export const ALARM = 'tradepulse-primary-region-unhealthy';
/** An alarm configured for the opposite direction (failback into us-east-1). */
export const REVERSE_ALARM = 'tradepulse-secondary-region-unhealthy';

const parameters = {
  acceptNewOrders: '/tradepulse/trading/ACCEPT_NEW_ORDERS',
  strategyActivation: '/tradepulse/trading/STRATEGY_ACTIVATION',
  activeRegion: '/tradepulse/dr/ACTIVE_REGION',
  deploymentFreeze: '/tradepulse/dr/DEPLOYMENT_FREEZE',
};

function regionInput(region: string, offset: number) {
  return {
    postgres: {
      kind: 'self-managed' as const,
      host: '127.0.0.1',
      port: 5432 + offset,
      database: 'tradepulse',
      operatorUser: 'dr_operator',
      applicationUser: 'tradepulse_app',
    },
    kafka: { brokers: [`127.0.0.1:${9092 + offset}`] },
    redis: { host: '127.0.0.1', port: 6379 + offset },
    aws: {
      snsTopicArn: `arn:aws:sns:${region}:000000000000:tradepulse-dr`,
      evidenceBucket: `tradepulse-dr-evidence-${region}`,
      lockTable: 'tradepulse-dr-locks',
      eventBusName: 'default',
      parameters,
    },
  };
}

const dnsTargets = (region: string) => ({
  api: `api.${region}.tradepulse.internal`,
  postgresWriter: `pg.${region}.tradepulse.internal`,
  kafkaBootstrap: `kafka.${region}.tradepulse.internal`,
  redis: `redis.${region}.tradepulse.internal`,
});

/** The raw two-region topology (what a config file holds); see local-runner/sandbox-topology.ts. */
export function sampleTopologyInput(): TopologyInput {
  return {
    application: 'tradepulse',
    regions: { [SOURCE]: regionInput(SOURCE, 0), [TARGET]: regionInput(TARGET, 100) },
    dns: {
      method: 'route53-weighted',
      hostedZoneId: 'Z0000000000000000TEST',
      records: {
        api: 'api.tradepulse.internal',
        postgresWriter: 'pg.tradepulse.internal',
        kafkaBootstrap: 'kafka.tradepulse.internal',
        redis: 'redis.tradepulse.internal',
      },
      targets: { [SOURCE]: dnsTargets(SOURCE), [TARGET]: dnsTargets(TARGET) },
      ttlSeconds: 5,
    },
    alarms: {
      [ALARM]: { sourceRegion: SOURCE, targetRegion: TARGET },
      [REVERSE_ALARM]: { sourceRegion: TARGET, targetRegion: SOURCE },
    },
    kafka: {
      criticalTopics: ['orders', 'fills', 'risk_events'],
      sourceAliases: { [SOURCE]: 'a', [TARGET]: 'b' },
      maxLagSeconds: 30,
      offsetLagMax: 10,
    },
  };
}

/** The parsed topology (defaults applied: runbook objectives, 7200 s lease, 120 min monitoring). */
export function sampleTopology(overrides: Partial<TopologyInput> = {}): Topology {
  return parseTopology({ ...sampleTopologyInput(), ...overrides }, 'unit-test topology');
}

/** A validated run as ValidateInput produces it (cf. test/workflow/stub-steps.ts). */
export function sampleRun(overrides: Partial<Run> = {}): Run {
  return {
    runId: 'unit-run-1',
    executionId: 'arn:aws:states:us-west-2:000000000000:execution:tradepulse-dr-failover:unit-run-1',
    application: 'tradepulse',
    mode: 'drill',
    dryRun: false,
    trigger: { kind: 'cli', requestedBy: 'jest' },
    sourceRegion: SOURCE,
    targetRegion: TARGET,
    allowDataLoss: null,
    declaredAt: '2026-11-27T00:00:00.000Z',
    ...overrides,
  };
}

export const dryRun = (overrides: Partial<Run> = {}) =>
  sampleRun({ mode: 'dryRun', dryRun: true, ...overrides });

// ---------------------------------------------------------------- clock

/** A clock that moves only when told to (or when a step sleeps through `deps.sleep`). */
export class FakeClock implements StepClock {
  private t: number;
  constructor(start = '2026-11-27T00:00:10.000Z') {
    this.t = Date.parse(start);
  }
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

// ---------------------------------------------------------------- call recording

export interface RecordedCall {
  method: string;
  args: unknown[];
}

const isDryRunCall = (args: unknown[]) =>
  args.some((a) => typeof a === 'object' && a !== null && (a as { dryRun?: unknown }).dryRun === true);

abstract class Recorder {
  readonly calls: RecordedCall[] = [];
  /** What this fake actually changed, one line per change. */
  readonly mutations: string[] = [];
  protected abstract readonly mutatingMethods: readonly string[];
  constructor(readonly label: string) {}

  protected called(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }
  protected mutated(what: string): void {
    this.mutations.push(`${this.label}: ${what}`);
  }
  /** Calls of the given method, with their arguments. */
  callsTo(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }
  /** Calls to methods that change the world, except those made with `{ dryRun: true }`. */
  writeCalls(): string[] {
    return this.calls
      .filter((c) => this.mutatingMethods.includes(c.method) && !isDryRunCall(c.args))
      .map((c) => `${this.label}.${c.method}`);
  }
}

const unreachableError = (label: string) =>
  Object.assign(new Error(`${label}: connect ECONNREFUSED`), { code: 'ECONNREFUSED' });

// ---------------------------------------------------------------- PostgreSQL

type CanonicalTable = 'orders' | 'fills' | 'risk_events';
type PostgresState = Omit<PostgresNodeStatus, 'error'>;

/** Ledger aggregates of a small, consistent ledger. */
export function sampleAggregates(overrides: Partial<LedgerAggregates> = {}): LedgerAggregates {
  return {
    capturedAt: '2026-11-27T00:00:05.000Z',
    lsn: '0/3000000',
    tables: {
      orders: { rows: 100, quantitySum: '1500', notionalSum: '150000.50' },
      fills: { rows: 80, quantitySum: '1200', notionalSum: '120000.25' },
      risk_events: { rows: 5 },
      positions: { rows: 10, quantitySum: '300' },
      balance_ledger: { rows: 80, notionalSum: '-120000.25' },
    },
    balancesByAccount: { 'ACC-0001': '1000000.00', 'ACC-0002': '500000.00' },
    positionsByAccountInstrument: { 'ACC-0001/AAPL': '100', 'ACC-0002/NVDA': '-50' },
    maxSeq: { orders: 100, fills: 80, risk_events: 5 },
    ...overrides,
  };
}

export class FakePostgres extends Recorder implements PostgresAdapter {
  protected readonly mutatingMethods = ['fence', 'unfence', 'promote'] as const;
  state: PostgresState;
  /** Application sessions fence() terminates. */
  applicationSessions = 2;
  /** Failure injection: fence() runs but a write still succeeds afterwards. */
  fenceRefusesWrites = true;
  /** Failure injection: what promote() leaves behind. */
  promoteOutcome: 'writable' | 'read-only' | 'still-standby' = 'writable';
  /** Failure injection: waitForReplay() never catches up. */
  replayCatchesUp = true;
  aggregates: LedgerAggregates = sampleAggregates();
  /** Rows present, per canonical table and writer (for missingSequences). */
  present: Partial<Record<CanonicalTable, Record<string, number[]>>> = {};
  /** Patches applied one per status() call, in order (then the state stays as it is). */
  statusScript: Partial<PostgresState>[] = [];

  constructor(label: string, state: Partial<PostgresState> = {}) {
    super(label);
    this.state = {
      reachable: true,
      role: 'standby',
      readOnly: true,
      lsn: '0/3000000',
      replayLsn: '0/3000000',
      replayPendingBytes: 0,
      replayDelaySeconds: 0,
      walReceiverStatus: 'streaming',
      timeline: 1,
      activeApplicationTransactions: 0,
      ...state,
    };
  }

  static primary(region: string, state: Partial<PostgresState> = {}): FakePostgres {
    return new FakePostgres(`postgres(${region})`, {
      role: 'primary',
      readOnly: false,
      replayLsn: null,
      replayPendingBytes: null,
      replayDelaySeconds: null,
      walReceiverStatus: null,
      ...state,
    });
  }
  static standby(region: string, state: Partial<PostgresState> = {}): FakePostgres {
    return new FakePostgres(`postgres(${region})`, state);
  }

  async status(): Promise<PostgresNodeStatus> {
    this.called('status');
    const patch = this.statusScript.shift();
    if (patch) Object.assign(this.state, patch);
    if (!this.state.reachable) {
      return {
        reachable: false,
        role: 'unknown',
        // As the real adapter: unknown is not "refuses writes"; no step may take it as fenced.
        readOnly: false,
        lsn: null,
        replayLsn: null,
        replayPendingBytes: null,
        replayDelaySeconds: null,
        walReceiverStatus: null,
        timeline: null,
        activeApplicationTransactions: 0,
        error: 'connect ECONNREFUSED',
      };
    }
    return { ...this.state };
  }

  async fence() {
    this.called('fence');
    if (!this.state.reachable) throw unreachableError(this.label);
    if (this.state.readOnly) return { alreadyDone: true, terminatedSessions: 0, verifiedWriteRefused: true };
    const terminatedSessions = this.applicationSessions;
    this.applicationSessions = 0;
    this.state.activeApplicationTransactions = 0;
    if (!this.fenceRefusesWrites) {
      this.mutated(`terminated ${terminatedSessions} sessions but still accepts writes`);
      return { alreadyDone: false, terminatedSessions, verifiedWriteRefused: false };
    }
    this.state.readOnly = true;
    this.mutated(`fenced (terminated ${terminatedSessions} sessions)`);
    return { alreadyDone: false, terminatedSessions, verifiedWriteRefused: true };
  }

  async unfence() {
    this.called('unfence');
    if (!this.state.readOnly || this.state.role !== 'primary') return { alreadyDone: true };
    this.state.readOnly = false;
    this.mutated('unfenced');
    return { alreadyDone: false };
  }

  async waitForReplay(timeoutMs: number) {
    this.called('waitForReplay', timeoutMs);
    if (!this.replayCatchesUp)
      throw new NotReadyYetError(`${this.label}: replay did not catch up within ${timeoutMs} ms`);
    this.state.replayLsn = this.state.lsn;
    this.state.replayPendingBytes = 0;
    return { receiveLsn: this.state.lsn, replayLsn: this.state.replayLsn, waitedMs: 0 };
  }

  async promote() {
    this.called('promote');
    if (!this.state.reachable) throw unreachableError(this.label);
    if (this.state.role === 'primary') {
      if (!this.state.readOnly)
        return { alreadyDone: true, timeline: this.state.timeline, mechanism: 'pg_promote' };
      // A primary that inherited the old primary's fence through the WAL: promote() lifts it.
      this.state.readOnly = false;
      this.mutated('lifted an inherited fence');
      return { alreadyDone: false, timeline: this.state.timeline, mechanism: 'pg_promote' };
    }
    if (this.promoteOutcome === 'still-standby') {
      this.mutated('pg_promote requested, node still in recovery');
      return { alreadyDone: false, timeline: this.state.timeline, mechanism: 'pg_promote' };
    }
    this.state.role = 'primary';
    this.state.readOnly = this.promoteOutcome === 'read-only';
    this.state.timeline = (this.state.timeline ?? 1) + 1;
    this.state.lsn = this.state.replayLsn ?? this.state.lsn;
    this.state.replayLsn = null;
    this.state.replayPendingBytes = null;
    this.state.replayDelaySeconds = null;
    this.state.walReceiverStatus = null;
    this.mutated(`promoted to timeline ${this.state.timeline}`);
    return { alreadyDone: false, timeline: this.state.timeline, mechanism: 'pg_promote' };
  }

  async ledgerAggregates(): Promise<LedgerAggregates> {
    this.called('ledgerAggregates');
    if (!this.state.reachable) throw unreachableError(this.label);
    return structuredClone(this.aggregates);
  }

  async missingSequences(table: CanonicalTable, writerId: string, seqs: number[]): Promise<number[]> {
    this.called('missingSequences', table, writerId, seqs);
    const here = new Set(this.present[table]?.[writerId] ?? []);
    return seqs.filter((s) => !here.has(s));
  }

  async close(): Promise<void> {
    this.called('close');
  }
}

// ---------------------------------------------------------------- Kafka

export interface FakeConsumerGroup {
  group: string;
  /** Offsets MirrorMaker 2 checkpoints translate to, or none (no checkpoint yet). */
  checkpoint: { topic: string; partition: number; offset: string; upstreamOffset: string }[] | null;
  /** Consumers of the group are already connected to the target cluster. */
  activeOnTarget?: boolean;
}

/** MirrorMaker 2 replication from the source region's cluster into the target's. */
export class FakeKafka extends Recorder implements KafkaAdapter {
  protected readonly mutatingMethods = ['translateAndCommitOffsets'] as const;
  reachable = true;
  brokers = 1;
  /** Per critical topic; null: the source cluster does not answer (replicationLag throws). */
  lag: TopicReplicationLag[] | null = [
    { topic: 'orders', messagesBehind: 0, lagSeconds: 0 },
    { topic: 'fills', messagesBehind: 0, lagSeconds: 0 },
    { topic: 'risk_events', messagesBehind: 0, lagSeconds: 0 },
  ];
  sourceOffsets: Record<string, Record<string, Record<number, string>>> = {
    'audit-trail': { orders: { 0: '1200' }, fills: { 0: '900' } },
  };
  snapshotFails = false;
  groups: FakeConsumerGroup[] = [
    {
      group: 'audit-trail',
      checkpoint: [{ topic: 'a.orders', partition: 0, offset: '1195', upstreamOffset: '1200' }],
    },
    {
      group: 'risk-engine',
      checkpoint: [{ topic: 'a.fills', partition: 0, offset: '880', upstreamOffset: '900' }],
    },
  ];
  /** Offsets committed on the target, per group. */
  readonly committed = new Map<string, { topic: string; partition: number; offset: string }[]>();
  isr: { topic: string; partition: number; isr: number; minInsyncReplicas: number }[] = [
    { topic: 'a.orders', partition: 0, isr: 1, minInsyncReplicas: 1 },
    { topic: 'a.fills', partition: 0, isr: 1, minInsyncReplicas: 1 },
  ];
  consumerLag: { group: string; topic: string; lag: number; partitionsWithoutOffset: number }[] = [];

  constructor(label = `kafka(${SOURCE}→${TARGET})`) {
    super(label);
  }

  async health() {
    this.called('health');
    return this.reachable
      ? { reachable: true, brokers: this.brokers }
      : { reachable: false, brokers: 0, error: 'There is no leader for this topic-partition' };
  }
  async replicationLag(): Promise<TopicReplicationLag[]> {
    this.called('replicationLag');
    if (this.lag === null) throw unreachableError(`${this.label} source`);
    return this.lag.map((t) => ({ ...t }));
  }
  async snapshotSourceOffsets() {
    this.called('snapshotSourceOffsets');
    if (this.snapshotFails) throw unreachableError(`${this.label} source`);
    return structuredClone(this.sourceOffsets);
  }
  async translateAndCommitOffsets(opts: { dryRun: boolean }): Promise<TranslatedGroupOffsets[]> {
    this.called('translateAndCommitOffsets', opts);
    return this.groups.map((g): TranslatedGroupOffsets => {
      const offsets = g.checkpoint ?? [];
      if (g.activeOnTarget)
        return { group: g.group, offsets, committed: false, skippedReason: 'group-active-on-target' };
      if (!g.checkpoint) return { group: g.group, offsets, committed: false, skippedReason: 'no-checkpoint' };
      if (this.committed.has(g.group))
        return { group: g.group, offsets, committed: false, skippedReason: 'already-at-or-beyond' };
      if (opts.dryRun) return { group: g.group, offsets, committed: false };
      this.committed.set(
        g.group,
        offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
      );
      this.mutated(`committed translated offsets for ${g.group}`);
      return { group: g.group, offsets, committed: true };
    });
  }
  async checkIsr() {
    this.called('checkIsr');
    return this.isr.map((p) => ({ ...p, ok: p.isr >= p.minInsyncReplicas }));
  }
  async consumerLagOnTarget() {
    this.called('consumerLagOnTarget');
    return this.consumerLag.map((l) => ({ ...l }));
  }
  async close(): Promise<void> {
    this.called('close');
  }
}

// ---------------------------------------------------------------- Redis

interface RedisState {
  reachable: boolean;
  role: 'master' | 'replica' | 'unknown';
  replicationOffset: number;
  linkUp: boolean | null;
  keys: number;
  fenced: boolean;
}

export class FakeRedis extends Recorder implements RedisAdapter {
  protected readonly mutatingMethods = ['promote', 'fence', 'hydrateFromSnapshot'] as const;
  state: RedisState;
  snapshot = { name: 'features/2026-11-26T23-55-00Z.jsonl', keys: 250, verified: true };
  /** The snapshot whose keys are already written here. */
  hydratedFrom: string | null = null;

  constructor(label: string, state: Partial<RedisState>) {
    super(label);
    this.state = {
      reachable: true,
      role: 'replica',
      replicationOffset: 10_000,
      linkUp: true,
      keys: 1000,
      fenced: false,
      ...state,
    };
  }
  static primary(region: string, state: Partial<RedisState> = {}) {
    return new FakeRedis(`redis(${region})`, { role: 'master', linkUp: null, ...state });
  }
  static replica(region: string, state: Partial<RedisState> = {}) {
    return new FakeRedis(`redis(${region})`, { role: 'replica', ...state });
  }

  async status() {
    this.called('status');
    if (!this.state.reachable)
      return { reachable: false, role: 'unknown' as const, replicationOffset: 0, linkUp: null, keys: 0 };
    const { reachable, role, replicationOffset, linkUp, keys } = this.state;
    return { reachable, role, replicationOffset, linkUp, keys };
  }
  async promote() {
    this.called('promote');
    if (!this.state.reachable) throw unreachableError(this.label);
    if (this.state.role === 'master') return { alreadyDone: true };
    this.state.role = 'master';
    this.state.linkUp = null;
    this.mutated('promoted (REPLICAOF NO ONE)');
    return { alreadyDone: false };
  }
  async fence() {
    this.called('fence');
    if (!this.state.reachable) throw unreachableError(this.label);
    if (this.state.fenced) return { alreadyDone: true };
    this.state.fenced = true;
    this.mutated('fenced');
    return { alreadyDone: false };
  }
  async hydrateFromSnapshot(opts: { dryRun: boolean }) {
    this.called('hydrateFromSnapshot', opts);
    const { name: snapshot, keys, verified } = this.snapshot;
    if (this.hydratedFrom === snapshot) return { snapshot, keysWritten: 0, verified, alreadyDone: true };
    if (opts.dryRun) return { snapshot, keysWritten: 0, verified, alreadyDone: false };
    this.state.keys += keys;
    this.hydratedFrom = snapshot;
    this.mutated(`hydrated ${keys} keys from ${snapshot}`);
    return { snapshot, keysWritten: keys, verified, alreadyDone: false };
  }
  async close(): Promise<void> {
    this.called('close');
  }
}

// ---------------------------------------------------------------- control plane

export class FakeRouter extends Recorder implements TrafficRouter {
  protected readonly mutatingMethods = ['routeTo'] as const;
  /** Where each trading endpoint sends traffic now. */
  active: Record<TradingEndpoint, string | null>;
  /** How many isChangeComplete() polls answer PENDING before INSYNC. */
  pendingPolls = 0;
  private changes = 0;

  constructor(
    private readonly topology: Topology,
    region: string = SOURCE,
  ) {
    super('router');
    this.active = Object.fromEntries(TRADING_ENDPOINTS.map((e) => [e, region])) as Record<
      TradingEndpoint,
      string | null
    >;
  }

  async activeRegions() {
    this.called('activeRegions');
    return { ...this.active };
  }
  async routeTo(region: string, opts: { dryRun: boolean }): Promise<DnsCutoverResult> {
    this.called('routeTo', region, opts);
    const alreadyDone = TRADING_ENDPOINTS.every((e) => this.active[e] === region);
    const records = TRADING_ENDPOINTS.map((e) => ({
      name: this.topology.dns.records[e],
      before: this.active[e],
      after: alreadyDone ? (this.active[e] ?? '(absent)') : region,
    }));
    if (alreadyDone || opts.dryRun) return { method: 'route53-weighted', alreadyDone, records };
    for (const e of TRADING_ENDPOINTS) this.active[e] = region;
    this.changes += 1;
    const changeId = `C${String(this.changes).padStart(4, '0')}`;
    this.mutated(`routed every endpoint to ${region} (${changeId})`);
    return { method: 'route53-weighted', alreadyDone: false, changeId, records };
  }
  async isChangeComplete(changeId: string) {
    this.called('isChangeComplete', changeId);
    if (this.pendingPolls > 0) {
      this.pendingPolls -= 1;
      return false;
    }
    return true;
  }
}

type Flags = Awaited<ReturnType<TradingFlags['read']>>;

/** Trading flags of one region (SSM parameters in that region). */
export class FakeFlags extends Recorder implements TradingFlags {
  protected readonly mutatingMethods = ['set'] as const;
  state: Flags;
  reachable = true;

  constructor(region: string, state: Partial<Flags> = {}) {
    super(`flags(${region})`);
    this.state = {
      acceptNewOrders: true,
      strategyActivation: 'enabled',
      activeRegion: SOURCE,
      deploymentFreeze: false,
      ...state,
    };
  }
  async read(): Promise<Flags> {
    this.called('read');
    if (!this.reachable) throw unreachableError(this.label);
    return { ...this.state };
  }
  /** Writes only the flags whose value differs and returns their names. */
  async set(changes: Partial<Flags>): Promise<{ changed: string[] }> {
    this.called('set', changes);
    if (!this.reachable) throw unreachableError(this.label);
    const changed: string[] = [];
    for (const [name, value] of Object.entries(changes) as [keyof Flags, Flags[keyof Flags]][]) {
      if (value === undefined || this.state[name] === value) continue;
      (this.state as Record<keyof Flags, unknown>)[name] = value;
      changed.push(name);
      this.mutated(`${name}=${String(value)}`);
    }
    return { changed };
  }
}

/** The single-flight lock, with the DynamoDB adapter's owner/expiry semantics. */
export class FakeLockStore extends Recorder implements LockStore {
  protected readonly mutatingMethods = ['acquire', 'release'] as const;
  readonly leases = new Map<string, LockLease>();
  constructor(private readonly clock: FakeClock) {
    super('lock');
  }
  async acquire(lease: LockLease) {
    this.called('acquire', lease);
    const current = this.leases.get(lease.application);
    const expired = current !== undefined && new Date(current.expiresAt) <= this.clock.now();
    if (current && !expired && current.owner !== lease.owner) {
      throw new LockHeldError(
        `lock for ${lease.application} is held by run ${current.runId} until ${current.expiresAt}`,
        { holder: current },
      );
    }
    const alreadyDone = current !== undefined && !expired && current.owner === lease.owner;
    if (alreadyDone) return { alreadyDone: true, holder: current };
    this.leases.set(lease.application, { ...lease });
    this.mutated(`${lease.runId} took the ${lease.application} lock until ${lease.expiresAt}`);
    return { alreadyDone: false, holder: { ...lease } };
  }
  async release(application: string, owner: string) {
    this.called('release', application, owner);
    const current = this.leases.get(application);
    if (!current) return { alreadyDone: true };
    if (current.owner !== owner) {
      throw new LockHeldError(`refusing to release the lock for ${application}: held by ${current.runId}`, {
        holder: current,
      });
    }
    this.leases.delete(application);
    this.mutated(`released the ${application} lock`);
    return { alreadyDone: false };
  }
  async current(application: string) {
    this.called('current', application);
    const lease = this.leases.get(application);
    return lease ? { ...lease } : null;
  }
}

interface RunRecordEntry {
  kind: string;
  at: string;
  data: unknown;
}

export class FakeRunRecords extends Recorder implements RunRecordStore {
  protected readonly mutatingMethods = ['open', 'append', 'close'] as const;
  readonly headers = new Map<
    string,
    { runId: string; application: string; mode: string; run: unknown; outcomes: string[] }
  >();
  /** Entries per run (an append does not require an open header, as in DynamoDB). */
  readonly entries = new Map<string, RunRecordEntry[]>();
  constructor() {
    super('runRecords');
  }
  async open(record: { runId: string; application: string; mode: string; run: unknown }) {
    this.called('open', record);
    if (this.headers.has(record.runId)) return { alreadyDone: true };
    this.headers.set(record.runId, { ...record, outcomes: [] });
    this.mutated(`opened ${record.runId}`);
    return { alreadyDone: false };
  }
  async append(runId: string, entry: RunRecordEntry) {
    this.called('append', runId, entry);
    this.entries.set(runId, [...(this.entries.get(runId) ?? []), structuredClone(entry)]);
    this.mutated(`appended ${entry.kind} to ${runId}`);
  }
  async close(runId: string, outcome: string) {
    this.called('close', runId, outcome);
    this.headers.get(runId)?.outcomes.push(outcome);
    this.mutated(`closed ${runId} as ${outcome}`);
  }
  async read(runId: string) {
    this.called('read', runId);
    const header = this.headers.get(runId);
    if (!header) return null;
    const outcome = header.outcomes.at(-1);
    return { runId, entries: this.entries.get(runId) ?? [], ...(outcome ? { outcome } : {}) };
  }
  /** The entries of a run, optionally of one kind. */
  entriesOf(runId: string, kind?: string): RunRecordEntry[] {
    return (this.entries.get(runId) ?? []).filter((e) => kind === undefined || e.kind === kind);
  }
}

type Notification = Parameters<Notifier['notify']>[0];

/** Notifications with the SNS notifier's dedupe: a key already sent is not sent again. */
export class FakeNotifier extends Recorder implements Notifier {
  protected readonly mutatingMethods = ['notify'] as const;
  readonly sent: (Notification & { messageId: string })[] = [];
  constructor() {
    super('notifier');
  }
  async notify(message: Notification) {
    this.called('notify', message);
    const previous = this.sent.find((m) => m.dedupeKey === message.dedupeKey);
    if (previous) return { messageId: previous.messageId, alreadyDone: true };
    const messageId = `msg-${this.sent.length + 1}`;
    this.sent.push({ ...message, messageId });
    this.mutated(`sent ${message.template} (${message.dedupeKey})`);
    return { messageId, alreadyDone: false };
  }
}

export class FakeEvents extends Recorder implements EventPublisher {
  protected readonly mutatingMethods = ['publish'] as const;
  readonly published: { detailType: string; detail: Record<string, unknown> }[] = [];
  constructor() {
    super('events');
  }
  async publish(event: { detailType: string; detail: Record<string, unknown> }) {
    this.called('publish', event);
    this.published.push(structuredClone(event));
    this.mutated(`published ${event.detailType}`);
    return { eventId: `evt-${this.published.length}` };
  }
}

/** An Object-Lock bucket: every distinct body is a new, permanent version; the same bytes again write nothing. */
export class FakeEvidence extends Recorder implements EvidenceStore {
  protected readonly mutatingMethods = ['put'] as const;
  readonly objects = new Map<
    string,
    { body: string; sha256: string; versionId: string; contentType: string }[]
  >();
  constructor() {
    super('evidence');
  }
  async put(key: string, body: Buffer | string, contentType: string) {
    this.called('put', key, body, contentType);
    const text = typeof body === 'string' ? body : body.toString('utf8');
    const sha256 = createHash('sha256').update(text).digest('hex');
    const versions = this.objects.get(key) ?? [];
    const latest = versions.at(-1);
    if (latest && latest.sha256 === sha256)
      return { key, versionId: latest.versionId, sha256, alreadyDone: true };
    const versionId = `v${versions.length + 1}`;
    this.objects.set(key, [...versions, { body: text, sha256, versionId, contentType }]);
    this.mutated(`wrote ${key} ${versionId}`);
    return { key, versionId, sha256, retainUntil: '2033-11-25T00:00:00.000Z', alreadyDone: false };
  }
}

/** The load generator's acknowledged-writes journal. */
export class FakeJournal implements AcknowledgedJournal {
  writes: { table: CanonicalTable; writerId: string; seqs: number[] }[] = [];
  async acknowledgedPostgresWrites() {
    return structuredClone(this.writes);
  }
}

/** The smoke harness's order path: records the orders, loses some on request, and leaves nothing behind. */
export class FakeSmokeSink extends Recorder implements SmokeSink {
  protected readonly mutatingMethods = ['placeOrdersAndRollBack'] as const;
  /** Orders the primary silently does not write. */
  dropWrites = 0;
  /** Written orders a read-back does not find. */
  dropReadBack = 0;
  constructor(region: string) {
    super(`smokeSink(${region})`);
  }
  async placeOrdersAndRollBack(runId: string, signals: Signal[]): Promise<SmokeOrderResult> {
    this.called('placeOrdersAndRollBack', runId, signals);
    const ordersWritten = Math.max(0, signals.length - this.dropWrites);
    return { ordersWritten, ordersReadBack: Math.max(0, ordersWritten - this.dropReadBack), writeMs: 3 };
  }
}

// ---------------------------------------------------------------- the world

export const SAMPLE_CSV_PATH = path.resolve(import.meta.dirname, '../../../data/sample.csv');
let sampleCsv: string | undefined;
export const sampleDataset = () => ({
  name: 'data/sample.csv',
  csv: (sampleCsv ??= fs.readFileSync(SAMPLE_CSV_PATH, 'utf8')),
});

export type FakeDeps = DrDependencies & SmokeDependencies;

export interface FakeWorld {
  topology: Topology;
  clock: FakeClock;
  postgres: Record<string, FakePostgres>;
  redis: Record<string, FakeRedis>;
  /** MirrorMaker 2 from SOURCE into TARGET. */
  kafka: FakeKafka;
  flags: Record<string, FakeFlags>;
  router: FakeRouter;
  lock: FakeLockStore;
  runRecords: FakeRunRecords;
  notifier: FakeNotifier;
  events: FakeEvents;
  evidence: FakeEvidence;
  journal: FakeJournal;
  smokeSinks: Record<string, FakeSmokeSink>;
  dataset: { name: string; csv: string };
  /** Every deps.sleep(ms), in order; each also advances the clock. */
  sleeps: number[];
  deps: FakeDeps;
}

const pick = <T>(map: Record<string, T>, key: string, what: string): T => {
  const value = map[key];
  if (!value) throw new Error(`unit test: no fake ${what} for ${key}`);
  return value;
};

/**
 * A healthy pre-failover world: SOURCE is the primary region (PostgreSQL primary, Redis
 * master, trading live, traffic routed to it), TARGET holds caught-up replicas, nothing is
 * locked, the orchestrator runs in TARGET.
 */
export function fakeDeps(
  options: { topology?: Topology; region?: string; journal?: boolean } = {},
): FakeWorld {
  const topology = options.topology ?? sampleTopology();
  const clock = new FakeClock();
  const postgres = { [SOURCE]: FakePostgres.primary(SOURCE), [TARGET]: FakePostgres.standby(TARGET) };
  const redis = { [SOURCE]: FakeRedis.primary(SOURCE), [TARGET]: FakeRedis.replica(TARGET) };
  const kafka = new FakeKafka();
  const flags = { [SOURCE]: new FakeFlags(SOURCE), [TARGET]: new FakeFlags(TARGET) };
  const router = new FakeRouter(topology);
  const lock = new FakeLockStore(clock);
  const runRecords = new FakeRunRecords();
  const notifier = new FakeNotifier();
  const events = new FakeEvents();
  const evidence = new FakeEvidence();
  const journal = new FakeJournal();
  const smokeSinks = { [SOURCE]: new FakeSmokeSink(SOURCE), [TARGET]: new FakeSmokeSink(TARGET) };
  const sleeps: number[] = [];
  const world: FakeWorld = {
    topology,
    clock,
    postgres,
    redis,
    kafka,
    flags,
    router,
    lock,
    runRecords,
    notifier,
    events,
    evidence,
    journal,
    smokeSinks,
    dataset: sampleDataset(),
    sleeps,
    deps: undefined as unknown as FakeDeps,
  };
  world.deps = {
    topology,
    region: options.region ?? TARGET,
    lock,
    runRecords,
    notifier,
    events,
    flags: (region) => pick(flags, region, 'flags'),
    router,
    evidence,
    postgres: (region) => pick(postgres, region, 'PostgreSQL'),
    kafka: (source, target) => {
      if (source !== SOURCE || target !== TARGET)
        throw new Error(`unit test: no fake Kafka replication ${source}→${target}`);
      return kafka;
    },
    redis: (region) => pick(redis, region, 'Redis'),
    ...(options.journal === false ? {} : { journal }),
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
    dataset: async () => world.dataset,
    smokeSink: (region) => pick(smokeSinks, region, 'smoke sink'),
  };
  return world;
}

function recorders(world: FakeWorld): Recorder[] {
  return [
    ...Object.values(world.postgres),
    ...Object.values(world.redis),
    world.kafka,
    ...Object.values(world.flags),
    world.router,
    world.lock,
    world.runRecords,
    world.notifier,
    world.events,
    world.evidence,
    ...Object.values(world.smokeSinks),
  ];
}

/** Everything any fake actually changed, in fake order. */
export function mutations(world: FakeWorld): string[] {
  return recorders(world).flatMap((r) => r.mutations);
}

/** Every call to a mutating method (e.g. `flags(us-west-2).set`), except `{ dryRun: true }` planning calls. */
export function writeCalls(world: FakeWorld): string[] {
  return recorders(world).flatMap((r) => r.writeCalls());
}

/** Puts the world in the state a completed failover leaves (used by observe-before-act tests). */
export function failedOver(world: FakeWorld, run: Run = sampleRun()): void {
  Object.assign(world.postgres[SOURCE]!.state, { readOnly: true });
  Object.assign(world.postgres[TARGET]!.state, {
    role: 'primary',
    readOnly: false,
    timeline: 2,
    replayLsn: null,
    replayPendingBytes: null,
  });
  world.redis[SOURCE]!.state.fenced = true;
  Object.assign(world.redis[TARGET]!.state, { role: 'master', linkUp: null });
  world.redis[TARGET]!.hydratedFrom = world.redis[TARGET]!.snapshot.name;
  for (const e of TRADING_ENDPOINTS) world.router.active[e] = TARGET;
  Object.assign(world.flags[TARGET]!.state, {
    acceptNewOrders: false,
    strategyActivation: 'disabled',
    activeRegion: TARGET,
    deploymentFreeze: true,
  });
  Object.assign(world.flags[SOURCE]!.state, { acceptNewOrders: false, strategyActivation: 'disabled' });
  world.lock.leases.set(run.application, {
    application: run.application,
    owner: run.executionId,
    runId: run.runId,
    acquiredAt: run.declaredAt,
    expiresAt: '2026-11-27T02:00:00.000Z',
  });
}
