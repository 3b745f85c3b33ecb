import {
  LineSplitter,
  MalformedFeatureRecordError,
  parseFeatureLine,
  replayCommands,
} from '../../../lambdas/shared/adapters/redis/feature-replay';
import { latestSnapshotId } from '../../../lambdas/shared/adapters/redis/snapshot-source';

describe('LineSplitter', () => {
  test('splits across chunk boundaries, drops CR of CRLF, and returns an unterminated last line at the end', () => {
    const splitter = new LineSplitter();
    const lines = [
      ...splitter.push(Buffer.from('{"a":1}\n{"b"')),
      ...splitter.push(Buffer.from(':2}\r\n\n{"c":3}')),
      ...splitter.end(),
    ];
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '', '{"c":3}']);
  });

  test('a multi-byte character split between chunks is decoded whole', () => {
    const bytes = Buffer.from('prix:€\n');
    const splitter = new LineSplitter();
    const cut = bytes.indexOf(0xe2) + 1; // inside the 3-byte €
    expect([
      ...splitter.push(bytes.subarray(0, cut)),
      ...splitter.push(bytes.subarray(cut)),
      ...splitter.end(),
    ]).toEqual(['prix:€']);
  });

  test('a stream ending with a newline leaves nothing at the end', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(Buffer.from('x\n'))).toEqual(['x']);
    expect(splitter.end()).toEqual([]);
  });
});

describe('parseFeatureLine', () => {
  test('a hash record and a string record with a TTL', () => {
    expect(parseFeatureLine('{"key":"feature:AAPL","fields":{"vwap":"189.2"}}', 'f:1')).toEqual({
      key: 'feature:AAPL',
      fields: { vwap: '189.2' },
    });
    expect(parseFeatureLine('{"key":"k","value":"v","ttl":30}', 'f:2')).toEqual({
      key: 'k',
      value: 'v',
      ttl: 30,
    });
  });

  test.each([
    ['not JSON', '{"key":'],
    ['both fields and value', '{"key":"k","fields":{"a":"1"},"value":"v"}'],
    ['an empty hash', '{"key":"k","fields":{}}'],
    ['a non-string field value', '{"key":"k","fields":{"a":1}}'],
    ['a negative TTL', '{"key":"k","value":"v","ttl":-1}'],
    ['an empty line', ''],
  ])('refuses %s, saying where', (_what, line) => {
    expect(() => parseFeatureLine(line, 'features-00000.jsonl:7')).toThrow(MalformedFeatureRecordError);
    expect(() => parseFeatureLine(line, 'features-00000.jsonl:7')).toThrow('features-00000.jsonl:7');
  });
});

describe('replayCommands', () => {
  const createdAt = Date.parse('2025-01-01T00:00:00.000Z');

  test('a string without TTL: a plain SET (which also clears any TTL the key had)', () => {
    expect(replayCommands({ key: 'k', value: 'v' }, createdAt, createdAt + 1000)).toEqual([
      ['SET', 'k', 'v'],
    ]);
  });

  test('a string with TTL expires at snapshot time + TTL, not replay time + TTL', () => {
    expect(replayCommands({ key: 'k', value: 'v', ttl: 60 }, createdAt, createdAt + 20_000)).toEqual([
      ['SET', 'k', 'v', 'PXAT', String(createdAt + 60_000)],
    ]);
  });

  test('a hash replaces the key entirely (no stale fields survive) and gets its absolute expiry', () => {
    expect(replayCommands({ key: 'h', fields: { a: '1', b: '2' }, ttl: 1.5 }, createdAt, createdAt)).toEqual([
      ['DEL', 'h'],
      ['HSET', 'h', 'a', '1', 'b', '2'],
      ['PEXPIREAT', 'h', String(createdAt + 1500)],
    ]);
  });

  test('a key whose TTL ran out since the snapshot is left alone', () => {
    expect(replayCommands({ key: 'k', value: 'v', ttl: 5 }, createdAt, createdAt + 5000)).toBe('expired');
  });
});

describe('latestSnapshotId', () => {
  test('the latest by the timestamp the id starts with; ids of another shape are ignored', () => {
    expect(
      latestSnapshotId([
        '20250101T000000000Z-0000000a',
        'zzz-not-a-snapshot',
        '20250102T000000000Z-00000001',
        '20241231T235959999Z-ffffffff',
      ]),
    ).toBe('20250102T000000000Z-00000001');
    expect(latestSnapshotId([])).toBeUndefined();
  });
});
