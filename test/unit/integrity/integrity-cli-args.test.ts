import { parseFeatureParityArgs, parseViewSpec } from '../../../integrity/feature-parity-cli-args';
import { parseReconcileArgs } from '../../../integrity/reconcile-cli-args';

describe('npm run reconcile flags', () => {
  it('reconcile against a baseline, with a journal', () => {
    expect(
      parseReconcileArgs(['--baseline', 'b.json', '--pg-port', '26301', '--journal', 'j.jsonl']),
    ).toEqual({
      ok: true,
      command: {
        mode: 'reconcile',
        baseline: 'b.json',
        journal: 'j.jsonl',
        json: false,
        target: {
          host: '127.0.0.1',
          port: 26301,
          database: 'tradepulse',
          user: 'dr_operator',
          statementTimeoutMs: 120_000,
        },
      },
    });
  });

  it('capture a baseline', () => {
    const r = parseReconcileArgs(['--capture', 'out.json', '--pg-port', '26300', '--timeout', '30']);
    expect(r).toMatchObject({
      ok: true,
      command: { mode: 'capture', capture: 'out.json', target: { statementTimeoutMs: 30_000 } },
    });
  });

  it.each([
    [
      ['--pg-port', '1'],
      'one of --baseline <file> (reconcile) or --capture <file> (take a baseline) is required',
    ],
    [['--baseline', 'b.json'], '--pg-port is required'],
    [
      ['--baseline', 'b.json', '--pg-port', '70000'],
      "--pg-port must be a TCP port number (1-65535), got '70000'",
    ],
    [
      ['--baseline', 'b.json', '--capture', 'c.json', '--pg-port', '1'],
      '--baseline and --capture exclude each other',
    ],
    [['--capture', 'c.json', '--journal', 'j', '--pg-port', '1'], '--journal only applies when reconciling'],
    [
      ['--baseline', 'b.json', '--pg-port', '1', '--timeout', 'soon'],
      "--timeout must be a positive number of seconds, got 'soon'",
    ],
    [['--baseline', 'b.json', '--pg-port', '1', '--tables', 'orders'], 'unknown flag --tables'],
    [['b.json'], 'unexpected argument'],
  ])('%j → %s', (argv, message) => {
    const r = parseReconcileArgs(argv);
    expect(r.ok).toBe(false);
    expect((r as { message: string }).message).toContain(message);
  });
});

describe('npm run feature-parity flags', () => {
  const noFile = () => {
    throw new Error('ENOENT: no such file');
  };

  it('defaults to TradePulse’s feature views, report only', () => {
    const r = parseFeatureParityArgs(['--redis-port', '26303', '--bucket', 'b', '--sandbox', 'x'], noFile);
    expect(r).toMatchObject({
      ok: true,
      args: {
        redis: { host: '127.0.0.1', port: 26303 },
        bucket: 'b',
        prefix: 'feature-snapshots/',
        apply: false,
        sandbox: 'x',
      },
    });
    expect((r as { args: { views: { view: string }[] } }).args.views.map((v) => v.view)).toEqual([
      'feature:instrument',
      'feature:exposure',
    ]);
  });

  it('--view specs set tolerances per view', () => {
    expect(parseViewSpec('feature:instrument,abs=0.01,rel=1e-6,ts=asOf,skew=5,drift=rebuild')).toEqual({
      view: 'feature:instrument',
      absoluteTolerance: 0.01,
      relativeTolerance: 1e-6,
      timestampField: 'asOf',
      clockSkewSeconds: 5,
      onValueDrift: 'rebuild',
    });
    expect(parseViewSpec('feature:x,tol=1')).toBe(
      "--view feature:x,tol=1: unknown option 'tol' (use abs, rel, ts, skew, drift)",
    );
    expect(parseViewSpec('feature:x,abs=-1')).toBe(
      "--view feature:x,abs=-1: abs must be a number ≥ 0, got '-1'",
    );
    expect(parseViewSpec('feature:x,drift=ignore')).toMatch(/onValueDrift/);
    expect(parseViewSpec('feature:x:')).toMatch(/trailing colon/);
  });

  it('--views reads a JSON list of views and names what is wrong in it', () => {
    const r = parseFeatureParityArgs(['--redis-port', '1', '--bucket', 'b', '--views', 'v.json'], () =>
      JSON.stringify([{ view: 'feature:instrument', relativeTolerance: 'tiny' }]),
    );
    expect(r.ok).toBe(false);
    expect((r as { message: string }).message).toMatch(
      /--views v\.json is not a list of feature views:\n {2}- 0\.relativeTolerance/,
    );
    const missing = parseFeatureParityArgs(
      ['--redis-port', '1', '--bucket', 'b', '--views', 'v.json'],
      noFile,
    );
    expect((missing as { message: string }).message).toBe('cannot read --views v.json: ENOENT: no such file');
  });

  it.each([
    [['--bucket', 'b'], '--redis-port is required'],
    [['--redis-port', 'x', '--bucket', 'b'], "--redis-port must be a TCP port number (1-65535), got 'x'"],
    [['--redis-port', '1'], '--bucket is required'],
    [
      ['--redis-port', '1', '--bucket', 'b', '--sandbox', 's', '--endpoint', 'http://127.0.0.1:1'],
      '--sandbox and --endpoint exclude each other',
    ],
    [['--redis-port', '1', '--bucket', 'b', '--lift-quarantine'], '--lift-quarantine needs --apply'],
    [['--redis-port', '1', '--bucket', 'b', '--view', 'a', '--view', 'a'], 'feature view a is listed twice'],
  ])('%j → %s', (argv, message) => {
    const r = parseFeatureParityArgs(argv, noFile);
    expect(r.ok).toBe(false);
    expect((r as { message: string }).message).toContain(message);
  });
});
