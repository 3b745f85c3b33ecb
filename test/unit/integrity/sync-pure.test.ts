import { createHash } from 'node:crypto';
import { TransientError } from '../../../lambdas/shared/errors';
import { ManifestFileSchema, type ManifestFile } from '../../../lambdas/shared/manifest';
import { parseCliArgs, UsageError } from '../../../integrity/sync/cli-args';
import { PartCorruptedError } from '../../../integrity/sync/errors';
import {
  DEFAULT_PART_SIZE,
  fixedParts,
  GiB,
  layoutProblem,
  MiB,
  PartPlanError,
  partSizeFromMiB,
  planFile,
  S3_LIMITS,
} from '../../../integrity/sync/part-plan';
import {
  emptyProgress,
  formatBytes,
  formatDuration,
  formatProgress,
  rateAndEta,
  terminalSyncProgress,
} from '../../../integrity/sync/progress';
import {
  decideParts,
  multipartEtag,
  summarizeDecisions,
  type ListedPart,
} from '../../../integrity/sync/resume';
import {
  backoffCeilingMs,
  classifySyncError,
  fullJitterDelayMs,
  withRetry,
} from '../../../integrity/sync/retry';

const hex = (c: string) => c.repeat(64);

describe('part planning', () => {
  const file = (size: number, parts?: ManifestFile['parts']): ManifestFile =>
    ManifestFileSchema.parse({ path: 'a.bin', size, sha256: hex('a'), ...(parts ? { parts } : {}) });

  test('fixed parts cover the file, the last one takes the remainder', () => {
    expect(fixedParts(20 * MiB + 1, 8 * MiB)).toEqual([
      { partNumber: 1, offset: 0, size: 8 * MiB },
      { partNumber: 2, offset: 8 * MiB, size: 8 * MiB },
      { partNumber: 3, offset: 16 * MiB, size: 4 * MiB + 1 },
    ]);
    expect(fixedParts(16 * MiB, 8 * MiB)).toHaveLength(2);
  });

  test('a file that fits in one part is one PutObject, checked against the file hash', () => {
    expect(planFile(file(3), 8 * MiB)).toMatchObject({
      layout: 'single',
      parts: [{ partNumber: 1, offset: 0, size: 3, sha256: hex('a') }],
    });
    expect(planFile(file(0)).layout).toBe('single');
    expect(planFile(file(8 * MiB), 8 * MiB).layout).toBe('single');
  });

  test('a larger file without manifest parts gets fixed parts of the configured size', () => {
    const plan = planFile(file(8 * MiB + 1), 8 * MiB);
    expect(plan.layout).toBe('fixed');
    expect(plan.parts.map((p) => p.size)).toEqual([8 * MiB, 1]);
    expect(plan.parts.every((p) => p.sha256 === undefined)).toBe(true);
  });

  test("the manifest's own parts are used, with their hashes, when S3 accepts them", () => {
    const parts = [
      { index: 0, offset: 0, size: 6 * MiB, sha256: hex('1') },
      { index: 1, offset: 6 * MiB, size: 6 * MiB, sha256: hex('2') },
      { index: 2, offset: 12 * MiB, size: 10, sha256: hex('3') },
    ];
    const plan = planFile(file(12 * MiB + 10, parts), 8 * MiB);
    expect(plan.layout).toBe('manifest');
    expect(plan.parts).toEqual([
      { partNumber: 1, offset: 0, size: 6 * MiB, sha256: hex('1') },
      { partNumber: 2, offset: 6 * MiB, size: 6 * MiB, sha256: hex('2') },
      { partNumber: 3, offset: 12 * MiB, size: 10, sha256: hex('3') },
    ]);
  });

  test('manifest parts below S3’s 5 MiB minimum fall back to fixed parts, saying why', () => {
    const parts = [
      { index: 0, offset: 0, size: 1 * MiB, sha256: hex('1') },
      { index: 1, offset: 1 * MiB, size: 9 * MiB, sha256: hex('2') },
    ];
    const plan = planFile(file(10 * MiB, parts), 8 * MiB);
    expect(plan.layout).toBe('fixed');
    expect(plan.note).toMatch(/5 MiB/);
    expect(layoutProblem(parts)).toMatch(/part 0/);
    expect(layoutProblem([{ size: 1 }])).toBeUndefined(); // the last part may be small
  });

  test('the part size grows rather than exceed 10,000 parts', () => {
    const plan = planFile(file(100 * GiB), 5 * MiB);
    expect(plan.parts.length).toBeLessThanOrEqual(S3_LIMITS.maxParts);
    expect(plan.note).toMatch(/raised/);
    expect(plan.parts.reduce((n, p) => n + p.size, 0)).toBe(100 * GiB);
  });

  test('part sizes are validated against S3 limits; --part-size is in MiB', () => {
    expect(partSizeFromMiB('16')).toBe(16 * MiB);
    expect(partSizeFromMiB('8.5')).toBe(8.5 * MiB);
    expect(() => partSizeFromMiB('4')).toThrow(PartPlanError);
    expect(() => partSizeFromMiB('6000')).toThrow(PartPlanError);
    expect(() => partSizeFromMiB('lots')).toThrow(/number of MiB/);
    expect(() => planFile(file(1), 1024)).toThrow(PartPlanError);
    expect(DEFAULT_PART_SIZE).toBe(8 * MiB);
  });
});

describe('backoff with full jitter', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 2_000 };

  test('the ceiling doubles per retry and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 60, 5000].map((r) => backoffCeilingMs(r, policy))).toEqual([
      100, 200, 400, 800, 1600, 2000, 2000, 2000,
    ]);
    expect(() => backoffCeilingMs(-1, policy)).toThrow(RangeError);
  });

  test('delays are uniform in [0, ceiling): never negative, never at or above the ceiling', () => {
    for (let retry = 0; retry < 8; retry++) {
      const ceiling = backoffCeilingMs(retry, policy);
      expect(fullJitterDelayMs(retry, policy, () => 0)).toBe(0);
      const top = fullJitterDelayMs(retry, policy, () => 0.999999);
      expect(top).toBeLessThan(ceiling);
      expect(top).toBeGreaterThanOrEqual(ceiling - 1);
      for (let i = 0; i < 200; i++) {
        const d = fullJitterDelayMs(retry, policy);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }
    }
    expect(() => fullJitterDelayMs(0, policy, () => 1)).toThrow(RangeError);
  });

  test('transient failures are retried with the jittered delays, then it succeeds', async () => {
    const slept: number[] = [];
    let calls = 0;
    const result = await withRetry(
      'op',
      async () => {
        calls++;
        if (calls < 3) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        return 'ok';
      },
      { policy: policy, random: () => 0.5, sleep: async (ms) => slept.push(ms) },
    );
    expect(result).toBe('ok');
    expect(slept).toEqual([50, 100]);
  });

  test('gives up after maxAttempts with a TransientError naming the operation', async () => {
    let calls = 0;
    const failing = withRetry(
      'upload part 7',
      async () => {
        calls++;
        throw Object.assign(new Error('slow down'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
      },
      { policy: { ...policy, maxAttempts: 4 }, sleep: async () => undefined },
    );
    await expect(failing).rejects.toThrow(TransientError);
    await expect(failing).rejects.toThrow(/upload part 7: gave up after 4 attempts/);
    expect(calls).toBe(4);
  });

  test('a permanent failure is not retried; a corrupted part is when the caller says so', async () => {
    let calls = 0;
    await expect(
      withRetry('op', async () => {
        calls++;
        throw Object.assign(new Error('denied'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        });
      }),
    ).rejects.toThrow('denied');
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      withRetry(
        'part',
        async () => {
          calls++;
          if (calls === 1) throw new PartCorruptedError('bad etag');
          return calls;
        },
        { retryAlso: (e) => e instanceof PartCorruptedError, sleep: async () => undefined },
      ),
    ).resolves.toBe(2);
  });

  test('S3 5xx and SlowDown are transient; 4xx are not', () => {
    expect(classifySyncError({ name: 'SlowDown', message: 'x' })).toBeInstanceOf(TransientError);
    expect(classifySyncError({ name: 'X', $metadata: { httpStatusCode: 502 } })).toBeInstanceOf(
      TransientError,
    );
    const notFound = { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } };
    expect(classifySyncError(notFound)).toBe(notFound);
  });
});

describe('resume decisions', () => {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const planned = [1, 2, 3, 4].map((n) => ({ partNumber: n, offset: (n - 1) * 10, size: 10 }));
  const listed = (n: number, etag: string, extra: Partial<ListedPart> = {}): ListedPart => ({
    partNumber: n,
    size: 10,
    etag,
    ...extra,
  });

  test('parts whose ETag matches the journal are kept; missing, resized or differing ones are sent', () => {
    const journal = {
      '1': { size: 10, md5: md5('a'), sha256: hex('a') },
      '2': { size: 10, md5: md5('b'), sha256: hex('b') },
      '3': { size: 10, md5: md5('c'), sha256: hex('c') },
    };
    const uploaded = [listed(1, md5('a')), listed(2, md5('tampered')), listed(3, md5('c'), { size: 9 })];
    const d = decideParts(planned, uploaded, journal);
    expect(d.map((x) => x.action)).toEqual(['reuse', 'send', 'send', 'send']);
    expect(d[0]).toMatchObject({ etag: md5('a'), sha256: hex('a') });
    expect(d[1]!.reason).toMatch(/damaged or replaced/);
    expect(d[2]!.reason).toMatch(/9 bytes/);
    expect(d[3]!.reason).toMatch(/not uploaded/);
    expect(summarizeDecisions(d, uploaded)).toEqual({ reuse: 1, send: 3, checkSource: 0, rejected: 2 });
  });

  test("S3's own part SHA-256 decides when it is listed (AWS), against the manifest's part hash", () => {
    const withHashes = planned.map((p) => ({ ...p, sha256: hex(String(p.partNumber)) }));
    const d = decideParts(
      withHashes,
      [listed(1, 'e1', { sha256: hex('1') }), listed(2, 'e2', { sha256: hex('f') })],
      undefined,
    );
    expect(d.slice(0, 2).map((x) => x.action)).toEqual(['reuse', 'send']);
  });

  test('a journal that recorded other content than the manifest part is not trusted', () => {
    const withHashes = planned.map((p) => ({ ...p, sha256: hex('1') }));
    const d = decideParts(withHashes, [listed(1, md5('a'))], {
      '1': { size: 10, md5: md5('a'), sha256: hex('9') },
    });
    expect(d[0]).toMatchObject({ action: 'send', reason: expect.stringMatching(/other content/) });
  });

  test('without any record the uploaded part is compared with the source, not blindly sent or kept', () => {
    const d = decideParts(planned, [listed(1, md5('a'))], undefined);
    expect(d[0]).toMatchObject({ action: 'check-source', etag: md5('a') });
    // When ETags are not MD5s (SSE-KMS) and S3 gives no checksum, nothing vouches: send.
    expect(decideParts(planned, [listed(1, md5('a'))], undefined, { etagIsMd5: false })[0]!.action).toBe(
      'send',
    );
  });

  test("multipart ETag is AWS's md5(concatenated part md5s)-N", () => {
    const m = (b: Buffer) => createHash('md5').update(b).digest('hex');
    const parts = [md5('a'), md5('b')];
    const expected = `${m(Buffer.concat(parts.map((p) => Buffer.from(p, 'hex'))))}-2`;
    expect(multipartEtag(parts, m)).toBe(expected);
  });
});

describe('progress', () => {
  test('bytes and durations read like a person would write them', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(1024 ** 3)).toBe('1.0 GiB');
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(187)).toBe('3m07s');
    expect(formatDuration(7500)).toBe('2h05m');
    expect(formatDuration(undefined)).toBe('--');
    expect(formatDuration(Infinity)).toBe('--');
  });

  test('rate is bytes over elapsed time; ETA is what is left at that rate', () => {
    expect(rateAndEta(100 * MiB, 300 * MiB, 0, 10_000)).toEqual({ bytesPerSecond: 10 * MiB, etaSeconds: 30 });
    expect(rateAndEta(0, 10, 0, 10_000)).toEqual({ bytesPerSecond: undefined, etaSeconds: undefined });
  });

  test('a transfer line shows bytes, percentage, parts (kept, re-sent, retries), rate and ETA', () => {
    const s = {
      ...emptyProgress(0),
      phase: 'transfer' as const,
      totalBytes: 1024 * MiB,
      sentBytes: 256 * MiB,
      keptBytes: 512 * MiB,
      partsTotal: 64,
      partsSent: 16,
      partsKept: 32,
      partsResent: 1,
      retries: 2,
    };
    expect(formatProgress(s, 16_000)).toBe(
      'transfer 768.0 MiB/1.0 GiB (75.0%)  parts 48/64 (32 kept, 1 re-sent, 2 retries)  16.0 MiB/s  ETA 16s',
    );
  });

  test('a verify line shows bytes read back and its own rate', () => {
    const s = {
      ...emptyProgress(0),
      phase: 'verify' as const,
      verifyTotalBytes: 100 * MiB,
      verifiedBytes: 50 * MiB,
      verifyStartedAt: 5_000,
    };
    expect(formatProgress(s, 10_000)).toBe('verify   50.0 MiB/100.0 MiB (50.0%)  10.0 MiB/s  ETA 5s');
  });

  test('without a terminal it writes whole lines to the stream, notes on their own line', () => {
    const lines: string[] = [];
    const stream = { write: (s: string) => lines.push(s), isTTY: false } as unknown as NodeJS.WritableStream;
    const sink = terminalSyncProgress({ stream, intervalMs: 60_000, now: () => 0 });
    sink.update((s) => {
      s.phase = 'transfer';
      s.totalBytes = 10;
      s.partsTotal = 1;
    });
    sink.note('part 1: damaged in transit; sending it again');
    sink.finish();
    expect(lines).toEqual([
      '[data-sync] part 1: damaged in transit; sending it again\n',
      '[data-sync] transfer 0 B/10 B (0.0%)  parts 0/1  -- MiB/s  ETA --\n',
    ]);
  });
});

describe('data-sync command line', () => {
  const sync = [
    'sync',
    '--from-region',
    'us-east-1',
    '--to-region',
    'us-west-2',
    '--bucket-from',
    'b1',
    '--bucket-to',
    'b2',
    '--prefix',
    'feature-snapshots/x/',
  ];

  test('sync with defaults', () => {
    expect(parseCliArgs(sync)).toEqual({
      command: 'sync',
      fromRegion: 'us-east-1',
      toRegion: 'us-west-2',
      bucketFrom: 'b1',
      bucketTo: 'b2',
      prefix: 'feature-snapshots/x/',
      toPrefix: 'feature-snapshots/x/',
      partSize: 8 * MiB,
      concurrency: 4,
      manifestName: 'manifest.json',
      quiet: false,
    });
  });

  test('sync options: part size in MiB, concurrency, sandbox, another target prefix', () => {
    expect(
      parseCliArgs([
        ...sync,
        '--part-size',
        '16',
        '--concurrency',
        '2',
        '--sandbox',
        'dev',
        '--to-prefix',
        'y/',
      ]),
    ).toMatchObject({ partSize: 16 * MiB, concurrency: 2, sandbox: 'dev', toPrefix: 'y/' });
  });

  test('verify', () => {
    expect(
      parseCliArgs(['verify', '--region', 'r', '--bucket', 'b', '--manifest', 'p/manifest.json']),
    ).toEqual({
      command: 'verify',
      region: 'r',
      bucket: 'b',
      manifest: 'p/manifest.json',
      quiet: false,
    });
  });

  test.each([
    ['a missing target bucket', ['sync', '--to-region', 'r'], /missing --bucket-to/],
    [
      'a missing prefix',
      sync.filter((a) => a !== '--prefix' && a !== 'feature-snapshots/x/'),
      /missing --prefix/,
    ],
    ['a part size below 5 MiB', [...sync, '--part-size', '2'], /between 5 MiB/],
    ['zero concurrency', [...sync, '--concurrency', '0'], /--concurrency/],
    ['a non-http endpoint', [...sync, '--endpoint', 'ftp://x'], /http/],
    [
      'both --endpoint and --sandbox',
      [...sync, '--endpoint', 'http://127.0.0.1:1', '--sandbox', 'x'],
      /not both/,
    ],
    ['--from-dir with a source bucket', [...sync, '--from-dir', '/tmp'], /one or the other/],
    ['verify without bucket and manifest', ['verify', '--region', 'r'], /missing --bucket, --manifest/],
    ['an unknown command', ['copy'], /unknown command/],
    ['an unknown flag', ['sync', '--bogus'], /bogus/],
  ])('rejects %s', (_what, argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });

  test('no command or --help is help', () => {
    expect(parseCliArgs([])).toEqual({ command: 'help' });
    expect(parseCliArgs(['sync', '--help'])).toEqual({ command: 'help' });
  });
});
