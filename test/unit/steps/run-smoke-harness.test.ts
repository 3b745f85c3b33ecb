import fs from 'node:fs';
import { runSmokeHarnessStep } from '../../../lambdas/run-smoke-harness/logic';
import {
  DatasetError,
  crossoverSignals,
  parseTicks,
  type Tick,
} from '../../../lambdas/run-smoke-harness/signals';
import type { Run } from '../../../lambdas/shared/run';
import { executeStep } from '../../../lambdas/shared/step';
import {
  SAMPLE_CSV_PATH,
  SOURCE,
  TARGET,
  dryRun,
  fakeDeps,
  sampleRun,
  writeCalls,
  type FakeWorld,
} from './fakes';

const HEADER = 'timestamp,symbol,bid,ask,last,volume';
const sampleCsv = () => fs.readFileSync(SAMPLE_CSV_PATH, 'utf8');

describe('parseTicks', () => {
  it('parses the real dataset: one tick per data line', () => {
    const csv = sampleCsv();
    const ticks = parseTicks(csv, 'data/sample.csv');
    expect(ticks).toHaveLength(csv.trimEnd().split('\n').length - 1);
    expect(ticks[0]).toEqual({
      timestamp: '2024-06-03T13:30:00.190Z',
      symbol: 'AAPL',
      bid: 189.5,
      ask: 189.52,
      last: 189.52,
      volume: 32,
    });
  });

  it('accepts CRLF line endings', () => {
    expect(parseTicks(`${HEADER}\r\n2024-06-03T13:30:00.190Z,AAPL,1,2,1.5,3\r\n`)).toHaveLength(1);
  });

  it('a wrong header names line 1', () => {
    expect(() => parseTicks('time,sym\n', 'ds.csv')).toThrow(
      new DatasetError(`ds.csv: line 1 must be the header '${HEADER}', found 'time,sym'`),
    );
  });

  it('a malformed tick names its line and shows it', () => {
    const csv = `${HEADER}\n2024-06-03T13:30:00.190Z,AAPL,1,2,1.5,3\n2024-06-03T13:30:01.000Z,AAPL,1,two,1.5,3\n`;
    const err = (() => {
      try {
        parseTicks(csv, 'ds.csv');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).name).toBe('DatasetError');
    expect((err as Error).message).toBe(
      "ds.csv: line 3 is not a valid tick: '2024-06-03T13:30:01.000Z,AAPL,1,two,1.5,3'",
    );
  });

  it('an impossible quote (ask below bid) names its line', () => {
    expect(() => parseTicks(`${HEADER}\n2024-06-03T13:30:00.190Z,AAPL,2,1,1.5,3\n`, 'ds.csv')).toThrow(
      /^ds\.csv: line 2 has impossible prices or volume/,
    );
  });

  it('an extra column is rejected, not ignored', () => {
    expect(() => parseTicks(`${HEADER}\n2024-06-03T13:30:00.190Z,AAPL,1,2,1.5,3,x\n`)).toThrow(
      /line 2 is not a valid tick/,
    );
  });
});

describe('crossoverSignals', () => {
  const ticks = parseTicks(sampleCsv(), 'data/sample.csv');

  it('derives signals from data/sample.csv, the same ones every time', () => {
    const first = crossoverSignals(ticks);
    const second = crossoverSignals(parseTicks(sampleCsv(), 'data/sample.csv'));
    expect(first.length).toBeGreaterThan(0);
    expect(second).toHaveLength(first.length);
    expect(second).toEqual(first);
  });

  it('each instrument’s signals alternate between buy and sell', () => {
    const bySymbol = new Map<string, string[]>();
    for (const s of crossoverSignals(ticks))
      bySymbol.set(s.symbol, [...(bySymbol.get(s.symbol) ?? []), s.side]);
    expect(bySymbol.size).toBeGreaterThan(0);
    for (const sides of bySymbol.values()) {
      sides.slice(1).forEach((side, i) => expect(side).not.toBe(sides[i]));
    }
  });

  it('signals only once an instrument has a full slow window and the averages cross', () => {
    const tick = (i: number, last: number): Tick => ({
      timestamp: new Date(Date.UTC(2024, 5, 3, 13, 30, i)).toISOString(),
      symbol: 'X',
      bid: last,
      ask: last,
      last,
      volume: 1,
    });
    const rising = Array.from({ length: 25 }, (_, i) => tick(i, 100 + i));
    expect(crossoverSignals(rising)).toEqual([]); // fast mean stays above slow: no crossover
    const thenFalling = [...rising, ...Array.from({ length: 10 }, (_, i) => tick(25 + i, 120 - 5 * i))];
    const signals = crossoverSignals(thenFalling);
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({ symbol: 'X', side: 'sell' });
  });
});

describe('run-smoke-harness', () => {
  const smoke = (world: FakeWorld, run: Run = sampleRun()) =>
    executeStep(runSmokeHarnessStep, { run }, world.deps, world.clock);
  const expectedSignals = () => crossoverSignals(parseTicks(sampleCsv(), 'data/sample.csv'));

  it('passes when every signal’s order is written on the new primary and read back', async () => {
    const world = fakeDeps();
    const { evidence, result } = await smoke(world);
    const signals = expectedSignals();
    expect(world.smokeSinks[TARGET]!.callsTo('placeOrdersAndRollBack')).toEqual([['unit-run-1', signals]]);
    expect(world.smokeSinks[SOURCE]!.calls).toEqual([]);
    expect(result).toEqual({
      passed: true,
      dataset: 'data/sample.csv',
      ticks: parseTicks(sampleCsv()).length,
      signals: signals.length,
      ordersWritten: signals.length,
      ordersReadBack: signals.length,
      writeMs: 3,
    });
    expect(evidence.action).toBe('observed');
  });

  it('fails when an order is not written', async () => {
    const world = fakeDeps();
    world.smokeSinks[TARGET]!.dropWrites = 1;
    const { result } = await smoke(world);
    const n = expectedSignals().length;
    expect(result.passed).toBe(false);
    expect(result).toMatchObject({
      failure: `expected ${n} smoke orders, wrote ${n - 1}, read back ${n - 1}`,
    });
  });

  it('fails when a written order is not read back', async () => {
    const world = fakeDeps();
    world.smokeSinks[TARGET]!.dropReadBack = 1;
    const { result } = await smoke(world);
    expect(result.passed).toBe(false);
  });

  it('fails when the dataset yields no signal at all', async () => {
    const world = fakeDeps();
    world.dataset = { name: 'tiny.csv', csv: `${HEADER}\n2024-06-03T13:30:00.190Z,AAPL,1,2,1.5,3\n` };
    const { result } = await smoke(world);
    expect(result).toMatchObject({ passed: false, signals: 0 });
  });

  it('a broken dataset fails the step with the line named', async () => {
    const world = fakeDeps();
    world.dataset = {
      name: 'broken.csv',
      csv: `${HEADER}\n2024-06-03T13:30:00.190Z,AAPL,1,2,1.5,3\nnot,a,tick\n`,
    };
    await expect(smoke(world)).rejects.toThrow("broken.csv: line 3 is not a valid tick: 'not,a,tick'");
    expect(world.smokeSinks[TARGET]!.calls).toEqual([]);
  });

  it('is repeatable: a second run places the same orders again and changes nothing', async () => {
    const world = fakeDeps();
    const first = await smoke(world);
    const second = await smoke(world);
    expect(second.result).toEqual(first.result);
    const calls = world.smokeSinks[TARGET]!.callsTo('placeOrdersAndRollBack');
    expect(calls[1]).toEqual(calls[0]);
  });

  it('dry run: derives the signals but places no order', async () => {
    const world = fakeDeps();
    const { evidence, result } = await smoke(world, dryRun());
    const n = expectedSignals().length;
    expect(evidence.action).toBe('dry-run');
    expect(evidence.changes).toEqual([`would place ${n} smoke orders on ${TARGET} and roll them back`]);
    expect(result).toMatchObject({ passed: true, signals: n });
    expect(writeCalls(world)).toEqual([]);
  });
});
