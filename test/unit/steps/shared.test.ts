import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { TEMPLATE_NAMES, renderTemplate } from '../../../lambdas/notify/templates';
import { STEP_FUNCTIONS } from '../../../lambdas/registry';
import {
  DrError,
  FencingFailedError,
  InvalidInputError,
  TransientError,
  classifyError,
} from '../../../lambdas/shared/errors';
import { lsnDistance } from '../../../lambdas/shared/measure/data-at-risk';
import { ExecutionInputSchema } from '../../../lambdas/shared/run';
import { RunOnlyInputSchema } from '../../../lambdas/shared/schemas';
import { actionFor, defineStep, executeStep } from '../../../lambdas/shared/step';
import { TopologyConfigError, parseTopology, RUNBOOK_OBJECTIVES } from '../../../lambdas/shared/topology';
import {
  ALARM,
  FakeClock,
  SOURCE,
  TARGET,
  dryRun,
  sampleRun,
  sampleTopology,
  sampleTopologyInput,
} from './fakes';

describe('executeStep', () => {
  const echo = defineStep({
    name: 'echo',
    input: z.object({ run: RunOnlyInputSchema.shape.run, n: z.number().int() }).strict(),
    async run({ n }, deps: { work(): Promise<void> }) {
      await deps.work();
      return {
        action: 'changed' as const,
        observed: { n },
        changes: [`did ${n}`],
        result: { doubled: n * 2 },
      };
    },
  });

  it('wraps the outcome in evidence with the step name and the clock’s timings', async () => {
    const clock = new FakeClock('2026-11-27T00:00:00.000Z');
    const { evidence, result } = await executeStep(
      echo,
      { run: sampleRun(), n: 21 },
      { work: async () => clock.advance(1500) },
      clock,
    );
    expect(result).toEqual({ doubled: 42 });
    expect(evidence).toEqual({
      step: 'echo',
      action: 'changed',
      observed: { n: 21 },
      changes: ['did 21'],
      startedAt: '2026-11-27T00:00:00.000Z',
      finishedAt: '2026-11-27T00:00:01.500Z',
      durationMs: 1500,
    });
  });

  it('invalid input → InvalidInputError naming the field, before the logic runs', async () => {
    let ran = false;
    const err = await executeStep(
      echo,
      { run: { ...sampleRun(), targetRegion: 'west' }, n: 1.5 },
      { work: async () => void (ran = true) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(/^echo: invalid input:\n/);
    expect((err as Error).message).toContain('run.targetRegion: must be an AWS region name');
    expect((err as InvalidInputError).details.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'run.targetRegion' }),
        expect.objectContaining({ path: 'n' }),
      ]),
    );
    expect(ran).toBe(false);
  });

  it('an unexpected field is rejected (schemas are strict)', async () => {
    await expect(
      executeStep(echo, { run: sampleRun(), n: 1, extra: true }, { work: async () => undefined }),
    ).rejects.toThrow(/extra/);
  });

  it('a connection error thrown by the logic becomes a TransientError the ASL retries', async () => {
    const err = await executeStep(
      echo,
      { run: sampleRun(), n: 1 },
      {
        work: async () => Promise.reject(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })),
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).name).toBe('TransientError');
  });

  it('actionFor: a dry run is always dry-run; otherwise changed unless already done', () => {
    expect(actionFor(true, false)).toBe('dry-run');
    expect(actionFor(true, true)).toBe('dry-run');
    expect(actionFor(false, true)).toBe('no-op');
    expect(actionFor(false, false)).toBe('changed');
  });
});

describe('classifyError', () => {
  it.each([
    ['a connection refused', Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })],
    ['a PostgreSQL admin shutdown', Object.assign(new Error('terminating connection'), { code: '57P01' })],
    ['an AWS throttle', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })],
    ['an SDK retryable error', Object.assign(new Error('socket hang up'), { $retryable: {} })],
  ])('%s is transient', (_what, err) => {
    const classified = classifyError(err);
    expect(classified).toBeInstanceOf(TransientError);
    expect((classified as Error).message).toContain((err as Error).message);
  });

  it('typed DR errors pass through unchanged', () => {
    const err = new FencingFailedError('still writable');
    expect(classifyError(err)).toBe(err);
  });

  it('anything else passes through unchanged (a bug is not retried)', () => {
    const err = new TypeError('x is undefined');
    expect(classifyError(err)).toBe(err);
    expect(classifyError(err)).not.toBeInstanceOf(DrError);
  });
});

describe('lsnDistance', () => {
  it('counts bytes between two LSNs', () => {
    expect(lsnDistance('0/10', '0/0')).toBe(16);
    expect(lsnDistance('0/3000100', '0/3000000')).toBe(256);
  });
  it('carries across the high word', () => {
    expect(lsnDistance('1/0', '0/FFFFFFFF')).toBe(1);
    expect(lsnDistance('2/10', '1/10')).toBe(2 ** 32);
  });
  it('is never negative', () => {
    expect(lsnDistance('0/0', '0/10')).toBe(0);
  });
  it('is unknown when either side is', () => {
    expect(lsnDistance(null, '0/10')).toBeNull();
    expect(lsnDistance('0/10', null)).toBeNull();
  });
});

describe('notification templates', () => {
  const failover = sampleRun({ mode: 'failover', trigger: { kind: 'alarm', alarmName: ALARM } });

  it('a declared failover is SEV-1 and labelled as one', () => {
    const m = renderTemplate('incident-declared', failover);
    expect(m.severity).toBe('sev1');
    expect(m.subject).toBe(`[SEV-1 FAILOVER] tradepulse: disaster recovery declared, ${SOURCE} → ${TARGET}`);
    expect(m.body).toContain(`started by alarm ${ALARM}`);
  });

  it('a drill is labelled DR DRILL and its declaration is informational', () => {
    const m = renderTemplate('incident-declared', sampleRun());
    expect(m.subject.startsWith('[DR DRILL] ')).toBe(true);
    expect(m.severity).toBe('info');
    expect(m.body).toContain('started by cli (jest)');
  });

  it('a dry run is labelled DR DRY RUN', () => {
    expect(renderTemplate('trading-resumed', dryRun()).subject.startsWith('[DR DRY RUN] ')).toBe(true);
  });

  it.each(TEMPLATE_NAMES)('%s names the run, the application and the route', (template) => {
    const m = renderTemplate(template, sampleRun());
    expect(m.subject).toContain('tradepulse');
    expect(m.body).toContain(`Run unit-run-1 · tradepulse · ${SOURCE} → ${TARGET}`);
  });

  it.each([
    'approval-rejected',
    'approval-timed-out',
    'rpo-gate-stopped',
    'verification-failed',
    'run-failed',
  ] as const)('%s is SEV-1 even in a drill', (template) =>
    expect(renderTemplate(template, sampleRun()).severity).toBe('sev1'),
  );

  it('details are appended as JSON; without details there is no details section', () => {
    expect(renderTemplate('run-failed', sampleRun(), { failure: { Error: 'X' } }).body).toContain(
      'Details:\n{\n  "failure": {\n    "Error": "X"',
    );
    expect(renderTemplate('run-failed', sampleRun()).body).not.toContain('Details:');
  });
});

describe('parseTopology', () => {
  const reject = (input: unknown): string => {
    try {
      parseTopology(input, 'test config');
    } catch (err) {
      expect(err).toBeInstanceOf(TopologyConfigError);
      return (err as Error).message;
    }
    throw new Error('expected parseTopology to reject');
  };

  it('applies the runbook’s defaults', () => {
    const t = sampleTopology();
    expect(t.objectives).toEqual(RUNBOOK_OBJECTIVES);
    expect(t.lockLeaseSeconds).toBe(7200);
    expect(t.heightenedMonitoringMinutes).toBe(120);
    expect(Object.keys(t.regions)).toEqual([SOURCE, TARGET]);
  });

  it('a missing config value is named', () => {
    const input = sampleTopologyInput();
    const { hostedZoneId: _omitted, ...dns } = input.dns;
    expect(reject({ ...input, dns })).toMatch(/^Invalid test config:\n {2}- dns\.hostedZoneId: /m);
  });

  it('an alarm pointing at a region not in the topology is named', () => {
    const input = sampleTopologyInput();
    expect(
      reject({ ...input, alarms: { x: { sourceRegion: SOURCE, targetRegion: 'eu-west-1' } } }),
    ).toContain('alarms.x.targetRegion: region eu-west-1 is not in regions');
  });

  it('a region without DNS targets is named', () => {
    const input = sampleTopologyInput();
    expect(
      reject({ ...input, dns: { ...input.dns, targets: { [SOURCE]: input.dns.targets[SOURCE]! } } }),
    ).toContain(`dns.targets.${TARGET}: every region needs DNS targets`);
  });

  it('routing controls without their configuration are named', () => {
    const input = sampleTopologyInput();
    expect(reject({ ...input, dns: { ...input.dns, method: 'arc-routing-control' } })).toContain(
      'dns.arc: required when dns.method is arc-routing-control',
    );
  });

  it('a malformed endpoint is named', () => {
    const input = sampleTopologyInput();
    const region = input.regions[SOURCE]!;
    expect(
      reject({
        ...input,
        regions: { ...input.regions, [SOURCE]: { ...region, kafka: { brokers: ['localhost'] } } },
      }),
    ).toContain(`regions.${SOURCE}.kafka.brokers.0: must be host:port`);
  });
});

describe('ExecutionInputSchema', () => {
  it('accepts an alarm trigger and an operator trigger', () => {
    expect(
      ExecutionInputSchema.safeParse({
        trigger: 'alarm',
        mode: 'failover',
        alarm: { name: ALARM, state: 'ALARM' },
        time: '2026-11-27T00:00:00Z',
      }).success,
    ).toBe(true);
    expect(
      ExecutionInputSchema.safeParse({
        trigger: 'console',
        mode: 'dryRun',
        sourceRegion: SOURCE,
        targetRegion: TARGET,
        requestedBy: 'bob',
      }).success,
    ).toBe(true);
  });

  it('an alarm can only start a real failover', () => {
    const parsed = ExecutionInputSchema.safeParse({
      trigger: 'alarm',
      mode: 'drill',
      alarm: { name: ALARM, state: 'ALARM' },
      time: '2026-11-27T00:00:00Z',
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['mode']);
  });

  it('unknown fields are rejected by name', () => {
    const parsed = ExecutionInputSchema.safeParse({
      trigger: 'cli',
      mode: 'drill',
      sourceRegion: SOURCE,
      targetRegion: TARGET,
      requestedBy: 'bob',
      force: true,
    });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain('force');
  });
});

describe('registry', () => {
  it('every step is registered once, under the folder its handler and logic live in', () => {
    const names = Object.values(STEP_FUNCTIONS).map((s) => s.name);
    // Failover's 27 steps and those of the workflows added since (failback, backup validation…).
    expect(names.length).toBeGreaterThanOrEqual(27);
    expect(new Set(names).size).toBe(names.length);
    const lambdas = path.resolve(import.meta.dirname, '../../../lambdas');
    for (const name of names) {
      expect([
        name,
        fs.existsSync(path.join(lambdas, name, 'handler.ts')),
        fs.existsSync(path.join(lambdas, name, 'logic.ts')),
      ]).toEqual([name, true, true]);
    }
  });
});
