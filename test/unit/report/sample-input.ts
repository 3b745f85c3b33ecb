/**
 * A realistic drill on the sandbox, as the local runner would collect it: every state of
 * the failover workflow with its stay, one PostgreSQL promotion retry, a human approval
 * at the terminal, the measured RPO figures and the verification results.
 */
import type { StepEvidence } from '../../../lambdas/shared/evidence';
import type { Run } from '../../../lambdas/shared/run';
import type { BuildEvidenceReportInput, TimelineEventInput } from '../../../report/build-report';
import type { TimelineKind, TimelineStatus } from '../../../report/model';

export const T0 = Date.parse('2026-03-12T14:02:12.000Z');
export const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

export function sampleRun(overrides: Partial<Run> = {}): Run {
  return {
    runId: 'dr-20260312T140212Z-7f3a',
    executionId:
      'arn:aws:states:us-west-2:111122223333:execution:tradepulse-failover:dr-20260312T140212Z-7f3a',
    application: 'tradepulse',
    mode: 'drill',
    dryRun: false,
    trigger: { kind: 'cli', requestedBy: 'j.okafor', reason: 'Quarterly game-day: total loss of us-east-1' },
    sourceRegion: 'us-east-1',
    targetRegion: 'us-west-2',
    allowDataLoss: null,
    declaredAt: at(0),
    ...overrides,
  };
}

type Row = [
  state: string,
  runbookStep: number,
  startMs: number,
  endMs: number,
  opts?: {
    status?: TimelineStatus;
    kind?: TimelineKind;
    branch?: string;
    attempt?: number;
    step?: string;
    serverMs?: number;
    error?: { name: string; cause?: string };
  },
];

const ROWS: Row[] = [
  ['ValidateInput', 1, 0, 38],
  ['AcquireLock', 1, 40, 112, { serverMs: 61 }],
  ['OpenRunRecord', 1, 114, 160, { serverMs: 35 }],
  ['NotifyDeclared', 1, 162, 240, { serverMs: 70 }],
  ['FreezeDeployments', 1, 242, 301, { serverMs: 48 }],
  ['CheckTargetHealth', 2, 305, 690, { serverMs: 360 }],
  ['CaptureDataAtRisk', 2, 692, 1010, { serverMs: 298 }],
  ['DisableNewStrategies', 2, 1012, 1064, { serverMs: 41 }],
  ['QuiesceOrderGateway', 2, 1066, 1122, { serverMs: 44 }],
  ['WaitForInFlightDrain', 2, 1124, 1802, { serverMs: 660 }],
  ['CheckKafkaLag', 2, 1804, 1950, { serverMs: 131 }],
  ['RpoGate', 2, 1952, 1953, { kind: 'choice' }],
  ['FenceOldPrimary', 3, 1955, 2410, { serverMs: 431 }],
  ['PromoteStores', 3, 2412, 6380, { kind: 'parallel' }],
  [
    'PromotePostgres',
    3,
    2414,
    3420,
    {
      branch: 'postgres',
      status: 'retried',
      serverMs: 1000,
      error: { name: 'NotReadyYetError', cause: 'replay 4096 bytes behind receive after 1000 ms' },
    },
  ],
  ['PromotePostgres', 3, 3620, 4870, { branch: 'postgres', attempt: 2, serverMs: 1221 }],
  ['TranslateKafkaOffsets', 3, 2414, 4105, { branch: 'kafka', serverMs: 1650 }],
  ['CheckKafkaIsr', 3, 4107, 4390, { branch: 'kafka', serverMs: 270 }],
  ['PromoteRedis', 3, 2414, 2690, { branch: 'redis', serverMs: 255 }],
  ['HydrateRedis', 3, 2692, 6378, { branch: 'redis', serverMs: 3640 }],
  ['CutOverDns', 4, 6382, 6940, { serverMs: 530 }],
  ['WaitForDnsInsync', 4, 6942, 8960, { serverMs: 96 }],
  ['SetActiveRegion', 4, 8962, 9030, { serverMs: 52 }],
  ['EmitRegionPromoted', 4, 9032, 9101, { serverMs: 58 }],
  ['RunSmokeHarness', 5, 9103, 11820, { serverMs: 2630 }],
  ['ReconcileLedger', 5, 11822, 12610, { serverMs: 760 }],
  ['CheckConsumerLag', 5, 12612, 12890, { serverMs: 255 }],
  ['AwaitApproval', 6, 12892, 54210, { kind: 'approval' }],
  ['RecheckBeforeResume', 6, 54212, 54580, { serverMs: 340 }],
  ['LiftOrderGatewayFreeze', 6, 54582, 54650, { serverMs: 55 }],
  ['NotifyResumed', 6, 54652, 54730, { serverMs: 66 }],
  ['StartHeightenedMonitoring', 6, 54732, 54800, { serverMs: 50 }],
  ['ReleaseLock', 6, 54802, 54860, { serverMs: 47 }],
];

const kebab = (s: string) => s.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

const OBSERVED: Record<
  string,
  { observed: Record<string, unknown>; changes: string[]; action?: StepEvidence['action'] }
> = {
  'validate-input': {
    action: 'observed',
    observed: {
      trigger: 'cli',
      mode: 'drill',
      sourceRegion: 'us-east-1',
      targetRegion: 'us-west-2',
      allowDataLoss: null,
    },
    changes: [],
  },
  'acquire-lock': {
    observed: {
      before: null,
      lease: { owner: 'dr-20260312T140212Z-7f3a', expiresAt: '2026-03-12T16:02:12.040Z' },
    },
    changes: ['Took the single-flight lock for tradepulse in tradepulse-dr-locks (lease 7200 s).'],
  },
  'freeze-deployments': {
    observed: { before: { deploymentFreeze: false }, after: { deploymentFreeze: true } },
    changes: [
      'Set /tradepulse/us-west-2/DEPLOYMENT_FREEZE to true.',
      'Published DeploymentsFrozen on the default event bus.',
    ],
  },
  'check-target-health': {
    action: 'observed',
    observed: {
      postgres: { reachable: true, role: 'standby', walReceiverStatus: 'streaming' },
      kafka: { reachable: true, brokers: 1 },
      redis: { reachable: true, role: 'replica', linkUp: true },
    },
    changes: [],
  },
  'wait-for-dns-insync': {
    action: 'observed',
    observed: { changeId: '/change/C2682N5HXP0BZ4', polls: 4, status: 'INSYNC' },
    changes: [],
  },
  'run-smoke-harness': {
    action: 'observed',
    observed: {
      dataset: 'data/sample.csv',
      ticks: 1000,
      signals: 312,
      ordersAcknowledged: 312,
      region: 'us-west-2',
    },
    changes: [],
  },
  'release-lock': {
    observed: { holder: 'dr-20260312T140212Z-7f3a' },
    changes: ['Released the single-flight lock for tradepulse.'],
  },
  'capture-data-at-risk': {
    action: 'observed',
    observed: {
      postgres: {
        replayPendingBytes: 18432,
        replayDelaySeconds: 0.412,
        receiveLsn: '0/5A3C1F8',
        replayLsn: '0/5A37BF8',
      },
      kafka: {
        orders: { messagesBehind: 212, lagSeconds: 1.84 },
        fills: { messagesBehind: 98, lagSeconds: 1.21 },
        risk_events: { messagesBehind: 11, lagSeconds: 0.37 },
      },
      redis: { replicaOffsetBehind: 2048, linkUp: true },
    },
    changes: [],
  },
  'quiesce-order-gateway': {
    observed: { before: { acceptNewOrders: true }, after: { acceptNewOrders: false } },
    changes: ['Set /tradepulse/us-east-1/ACCEPT_NEW_ORDERS to false (order gateway quiesced).'],
  },
  'fence-old-primary': {
    observed: {
      postgres: { role: 'primary', readOnlyBefore: false, terminatedSessions: 6, verifiedWriteRefused: true },
      redis: { role: 'master', fenced: true },
    },
    changes: [
      'Set default_transaction_read_only = on on the us-east-1 PostgreSQL primary and terminated 6 application sessions.',
      'Verified a test write on the old primary is refused.',
      'Fenced the us-east-1 Redis primary (CLIENT PAUSE WRITE).',
    ],
  },
  'promote-postgres': {
    observed: {
      before: { role: 'standby', receiveLsn: '0/5A3C1F8', replayLsn: '0/5A3C1F8' },
      after: { role: 'primary', timeline: 2, readOnly: false },
    },
    changes: ['pg_promote() on the us-west-2 standby; pg_is_in_recovery() is false, timeline 2.'],
  },
  'translate-kafka-offsets': {
    observed: {
      groups: 4,
      committed: 3,
      skipped: [{ group: 'audit-archiver', reason: 'group-active-on-target' }],
    },
    changes: [
      'Committed translated offsets for 3 consumer groups on the us-west-2 cluster (orders, fills, risk_events).',
    ],
  },
  'hydrate-redis': {
    observed: {
      snapshot: 'features-20260312T1400Z.rdb',
      manifestSha256: '9c1f0e7a52d3b84e0d6f3a1c2b7e9d4f5a6b8c0d1e2f3a4b5c6d7e8f9a0b1c2d',
      verified: true,
    },
    changes: [
      'Replayed 5120 hot keys from features-20260312T1400Z.rdb (checksum verified against its manifest).',
    ],
  },
  'cut-over-dns': {
    observed: {
      method: 'route53-weighted',
      changeId: '/change/C2682N5HXP0BZ4',
      before: { api: 'us-east-1' },
      after: { api: 'us-west-2' },
    },
    changes: [
      'UPSERT api.tradepulse.example → api.us-west-2.tradepulse.example (weight 100).',
      'UPSERT pg-writer.tradepulse.example → pg.us-west-2.tradepulse.example (weight 100).',
      'UPSERT kafka.tradepulse.example → kafka.us-west-2.tradepulse.example (weight 100).',
      'UPSERT redis.tradepulse.example → redis.us-west-2.tradepulse.example (weight 100).',
    ],
  },
  'reconcile-ledger': {
    action: 'observed',
    observed: {
      tables: {
        orders: { rows: 18211, match: true },
        fills: { rows: 16877, match: true },
        risk_events: { rows: 13125, match: true },
      },
      balances: { accounts: 24, match: true },
    },
    changes: [],
  },
  'lift-order-gateway-freeze': {
    observed: { before: { acceptNewOrders: false }, after: { acceptNewOrders: true } },
    changes: ['Set /tradepulse/us-west-2/ACCEPT_NEW_ORDERS to true (order gateway resumed).'],
  },
};

/** The drill's per-state timeline and the evidence each task returned. */
export function sampleTimeline(rows: Row[] = ROWS): {
  timeline: TimelineEventInput[];
  evidence: StepEvidence[];
} {
  const timeline: TimelineEventInput[] = [];
  const evidence: StepEvidence[] = [];
  for (const [state, runbookStep, start, end, o = {}] of rows) {
    const step = o.step ?? kebab(state);
    const kind = o.kind ?? 'task';
    const status = o.status ?? 'succeeded';
    timeline.push({
      state,
      step,
      kind,
      runbookStep,
      branch: o.branch ?? null,
      attempt: o.attempt ?? 1,
      enteredAt: at(start),
      exitedAt: at(end),
      status,
      serverMs: o.serverMs ?? null,
      error: o.error ?? null,
    });
    if (kind === 'task' && status === 'succeeded') {
      const known = OBSERVED[step];
      evidence.push({
        step,
        action: known?.action ?? (known?.changes.length === 0 ? 'no-op' : 'changed'),
        observed: known?.observed ?? { checked: true },
        changes: known?.changes ?? [`${state} done.`],
        startedAt: at(start + 2),
        finishedAt: at(end - 1),
        durationMs: end - 1 - (start + 2),
      });
    }
  }
  return { timeline, evidence };
}

export function sampleInput(overrides: Partial<BuildEvidenceReportInput> = {}): BuildEvidenceReportInput {
  const { timeline, evidence } = sampleTimeline();
  return {
    run: sampleRun(),
    execution: { status: 'SUCCEEDED', finishedAt: at(54870) },
    triggeredAt: null,
    trading: { pausedAt: at(1122), resumedAt: at(54650) },
    approval: {
      decision: 'approved',
      requestedAt: at(12892),
      decidedAt: at(54210),
      decidedBy: 'j.okafor (incident commander)',
      comment: 'Verification clean; resume.',
      channel: 'terminal',
    },
    rpoGate: { evaluated: true, stopped: false, exceeded: [] },
    timeline,
    evidence,
    measured: {
      postgres: {
        replication: 'asynchronous',
        lagAtDeclaration: { bytes: 18432, seconds: 0.412 },
        atRiskReported: { bytes: 0, seconds: 0, writes: 0 },
        ackedWritesLost: 0,
        reconciliation:
          'load-generator journal of 48,213 acknowledged writes reconciled with the promoted primary',
      },
      kafka: {
        lagAtDeclarationByTopic: [
          { topic: 'orders', messagesBehind: 212, lagSeconds: 1.84 },
          { topic: 'fills', messagesBehind: 98, lagSeconds: 1.21 },
          { topic: 'risk_events', messagesBehind: 11, lagSeconds: 0.37 },
        ],
        offsetsSnapshotted: false,
        skipped: 0,
        duplicatesByPartition: {
          'orders:0': 14,
          'orders:1': 9,
          'orders:2': 17,
          'fills:0': 6,
          'fills:1': 4,
          'risk_events:0': 0,
        },
        offsetLagMax: 100,
      },
      redis: {
        lagAtDeclaration: { bytes: 2048, seconds: 0.1 },
        snapshot: { name: 'features-20260312T1400Z.rdb', ageSeconds: 132, keysWritten: 5120, verified: true },
      },
    },
    verification: {
      smoke: {
        passed: true,
        summary: '1,000 ticks from data/sample.csv → 312 signals → 312 orders acknowledged in us-west-2.',
      },
      ledgerParity: {
        passed: true,
        summary: 'orders, fills, risk_events: counts and sums equal; 24 account balances equal.',
        details: { tables: 3, accounts: 24 },
      },
      consumerLag: {
        passed: true,
        summary: '3 consumer groups resumed on us-west-2 within 2 s of the log end.',
      },
      slo: null,
      findings: [
        {
          severity: 'info',
          source: 'verification.slo',
          message: 'SLO dashboards are not available on the sandbox; SLO check not run.',
        },
      ],
    },
    generatedAt: at(54870),
    ...overrides,
  };
}
