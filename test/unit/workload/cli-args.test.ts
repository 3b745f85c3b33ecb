import { parseCliArgs } from '../../../workload/cli-args';

const NOW = new Date('2026-01-02T03:04:05.678Z');
const fail = (argv: string[]) => {
  const r = parseCliArgs(argv, NOW);
  if (r.ok) throw new Error(`expected ${argv.join(' ')} to be rejected`);
  return r.message;
};

describe('loadgen flags', () => {
  it('maps the documented example onto generator options', () => {
    const r = parseCliArgs(
      [
        '--rate',
        '50',
        '--duration',
        '30',
        '--pg-port',
        '25400',
        '--kafka-brokers',
        '127.0.0.1:25404',
        '--journal',
        'out/j.jsonl',
      ],
      NOW,
    );
    if (!r.ok || 'help' in r) throw new Error('expected options');
    const g = r.options.generator;
    expect(g.ratePerSecond).toBe(50);
    expect(g.durationSeconds).toBe(30);
    expect(g.postgres).toEqual({
      host: '127.0.0.1',
      port: 25400,
      database: 'tradepulse',
      user: 'tradepulse_app',
    });
    expect(g.kafka).toEqual({
      brokers: ['127.0.0.1:25404'],
      topics: { order: 'orders', fill: 'fills', risk_event: 'risk_events' },
    });
    expect(g.journalPath).toBe('out/j.jsonl');
    expect(g.concurrency).toBe(4);
    expect(g.retry).toEqual({ writeDeadlineMs: 900_000 });
    expect(g.writerId).toMatch(/^loadgen-20260102T030405Z-[0-9a-f]{6}$/);
    expect(r.options.quiet).toBe(false);
  });

  it('defaults to a PostgreSQL-only run and a journal named after the writer', () => {
    const r = parseCliArgs(
      [
        '--pg-port',
        '5432',
        '--writer-id',
        'drill-1',
        '--mix',
        '70:30:0',
        '--seed',
        '9',
        '--max-writes',
        '100',
        '--quiet',
      ],
      NOW,
    );
    if (!r.ok || 'help' in r) throw new Error('expected options');
    expect(r.options.generator.kafka).toBeNull();
    expect(r.options.generator.journalPath).toBe('reports/workload/drill-1.jsonl');
    expect(r.options.generator.mix).toEqual({ order: 70, fill: 30, riskEvent: 0 });
    expect(r.options.generator.seed).toBe(9);
    expect(r.options.generator.maxWrites).toBe(100);
    expect(r.options.generator.ratePerSecond).toBe(50);
    expect(r.options.quiet).toBe(true);
  });

  it('answers --help', () => {
    expect(parseCliArgs(['--help'])).toEqual({ ok: true, help: true });
  });

  it.each([
    [['--rate', '10'], /--pg-port is required/],
    [['--pg-port', 'abc'], /--pg-port must be a TCP port number/],
    [['--pg-port', '70000'], /--pg-port must be a TCP port number \(1-65535\)/],
    [['--pg-port', '1', '--rate', 'fast'], /--rate must be a positive number/],
    [['--pg-port', '1', '--rate', '0'], /--rate must be between/],
    [['--pg-port', '1', '--duration', '-5'], /^--duration: argument is ambiguous/],
    [['--pg-port', '1', '--duration=-5'], /--duration must be a positive number of seconds/],
    [
      ['--pg-port', '1', '--kafka-brokers', 'localhost'],
      /--kafka-brokers must be a comma-separated list of host:port/,
    ],
    [
      ['--pg-port', '1', '--journal-sync', 'sometimes'],
      /--journal-sync must be one of always, interval, close/,
    ],
    [['--pg-port', '1', '--mix', '0:50:50'], /--mix the order weight must be positive/],
    [['--pg-port', '1', '--mix', '60-35-5'], /--mix must be three weights/],
    [['--pg-port', '1', '--concurrency', '0'], /--concurrency must be between 1 and 256/],
    [['--pg-port', '1', '--writer-id', 'a b'], /--writer-id must be 1-80 characters/],
    [['--pg-port', '1', '--orders-topic', 'bad topic'], /--orders-topic must be a Kafka topic name/],
    [['--pg-port', '1', '--bogus'], /^unknown flag --bogus$/],
    [['--pg-port'], /--pg-port/],
    [['--pg-port', '1', 'stray'], /unexpected argument/],
  ])('rejects %j naming the flag', (argv, message) => {
    expect(fail(argv)).toMatch(message);
  });

  it('reports every bad flag at once', () => {
    const message = fail(['--rate', 'x', '--concurrency', '999']);
    expect(message.split('\n')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^--rate /),
        expect.stringMatching(/^--pg-port is required/),
        expect.stringMatching(/^--concurrency /),
      ]),
    );
  });
});
