import { Readable } from 'node:stream';
import {
  buildManifest,
  digestStream,
  manifestEntryFor,
  ManifestInvalidError,
  ManifestMismatchError,
  parseManifest,
  sha256Of,
  verifyAgainstManifest,
  type Manifest,
} from '../../../lambdas/shared/manifest';

/** A stream delivering `data` in chunks of `size` bytes, so boundaries fall mid-part. */
const chunked = (data: Buffer, size: number) =>
  Readable.from(
    Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size)),
  );

const bytes = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');

function manifestFor(files: Record<string, Buffer>, partSize?: number): Promise<Manifest> {
  return Promise.all(
    Object.entries(files).map(([path, data]) =>
      manifestEntryFor(path, chunked(data, 5), partSize ? { partSize } : {}),
    ),
  ).then((entries) =>
    buildManifest({ kind: 'artifact-sync', files: entries, createdAt: new Date('2025-01-02T03:04:05.000Z') }),
  );
}

const opener = (files: Record<string, Buffer | undefined>) => async (file: { path: string }) =>
  files[file.path] ? chunked(files[file.path]!, 7) : null;

describe('manifest schema', () => {
  const valid = {
    version: 1,
    kind: 'feature-snapshot',
    createdAt: '2025-01-02T03:04:05.000Z',
    files: [{ path: 'a/b.jsonl', size: 3, sha256: sha256Of('abc') }],
    metadata: {},
  };

  test('accepts a well-formed manifest and defaults metadata', () => {
    const { metadata: _m, ...withoutMetadata } = valid;
    expect(parseManifest(withoutMetadata).metadata).toEqual({});
  });

  test.each([
    ['an absolute path', { files: [{ ...valid.files[0], path: '/etc/passwd' }] }, 'files.0.path'],
    ['a path escaping with ..', { files: [{ ...valid.files[0], path: 'a/../../x' }] }, 'files.0.path'],
    [
      'an upper-case digest',
      { files: [{ ...valid.files[0], sha256: sha256Of('abc').toUpperCase() }] },
      'files.0.sha256',
    ],
    ['a duplicate path', { files: [valid.files[0], valid.files[0]] }, 'files.1.path'],
    ['another version', { version: 2 }, 'version'],
    [
      'parts that leave a gap',
      {
        files: [
          {
            ...valid.files[0],
            parts: [
              { index: 0, offset: 0, size: 1, sha256: sha256Of('a') },
              { index: 1, offset: 2, size: 1, sha256: sha256Of('c') },
            ],
          },
        ],
      },
      'files.0.parts.1.offset',
    ],
    [
      'parts that do not cover the file',
      { files: [{ ...valid.files[0], parts: [{ index: 0, offset: 0, size: 2, sha256: sha256Of('ab') }] }] },
      'files.0.parts',
    ],
  ])('rejects %s, naming the field', (_what, change, field) => {
    expect(() => parseManifest({ ...valid, ...change })).toThrow(ManifestInvalidError);
    expect(() => parseManifest({ ...valid, ...change })).toThrow(field);
  });
});

describe('digestStream', () => {
  test('hashes the whole stream in one pass, whatever the chunking', async () => {
    const one = await digestStream(chunked(bytes, 1));
    const many = await digestStream(chunked(bytes, 11));
    expect(one).toEqual({ size: bytes.length, sha256: sha256Of(bytes) });
    expect(many).toEqual(one);
  });

  test('hashes fixed-size parts across chunk boundaries, the last one short', async () => {
    const digest = await digestStream(chunked(bytes, 7), { partSize: 10 });
    expect(digest.parts).toEqual([
      { index: 0, offset: 0, size: 10, sha256: sha256Of(bytes.subarray(0, 10)) },
      { index: 1, offset: 10, size: 10, sha256: sha256Of(bytes.subarray(10, 20)) },
      { index: 2, offset: 20, size: 10, sha256: sha256Of(bytes.subarray(20, 30)) },
      { index: 3, offset: 30, size: 6, sha256: sha256Of(bytes.subarray(30)) },
    ]);
  });

  test('follows an explicit part layout', async () => {
    const digest = await digestStream(chunked(bytes, 4), { partSizes: [3, 30, 3] });
    expect(digest.parts!.map((p) => [p.offset, p.size, p.sha256])).toEqual([
      [0, 3, sha256Of(bytes.subarray(0, 3))],
      [3, 30, sha256Of(bytes.subarray(3, 33))],
      [33, 3, sha256Of(bytes.subarray(33))],
    ]);
  });

  test('an empty stream has the SHA-256 of nothing', async () => {
    expect(await digestStream(Readable.from([]))).toEqual({ size: 0, sha256: sha256Of('') });
  });
});

describe('verifyAgainstManifest', () => {
  test('returns every file verified when all match, parts included', async () => {
    const files = { 'one.bin': bytes, 'two.bin': Buffer.from('hello') };
    const manifest = await manifestFor(files, 8);
    expect(manifest.files[0]!.parts).toHaveLength(5);
    await expect(verifyAgainstManifest(manifest, opener(files))).resolves.toEqual([
      { path: 'one.bin', size: bytes.length, sha256: sha256Of(bytes) },
      { path: 'two.bin', size: 5, sha256: sha256Of('hello') },
    ]);
  });

  test('one changed byte fails the file and the part holding it, and every problem is named', async () => {
    const manifest = await manifestFor({ 'one.bin': bytes, 'two.bin': Buffer.from('hello') }, 8);
    const tampered = Buffer.from(bytes);
    tampered[20] = 0x21;
    const failure = verifyAgainstManifest(manifest, opener({ 'one.bin': tampered, 'two.bin': undefined }));
    await expect(failure).rejects.toThrow(ManifestMismatchError);
    const error = (await failure.catch((e: unknown) => e)) as ManifestMismatchError;
    expect(error.mismatches).toEqual([
      { path: 'one.bin', problem: 'sha256', expected: sha256Of(bytes), actual: sha256Of(tampered) },
      {
        path: 'one.bin',
        problem: 'part-sha256',
        part: 2,
        expected: sha256Of(bytes.subarray(16, 24)),
        actual: sha256Of(tampered.subarray(16, 24)),
      },
      { path: 'two.bin', problem: 'missing' },
    ]);
    expect(error.name).toBe('ManifestMismatchError');
  });

  test('a truncated file is a size mismatch', async () => {
    const manifest = await manifestFor({ 'one.bin': bytes });
    const error = (await verifyAgainstManifest(manifest, opener({ 'one.bin': bytes.subarray(0, 30) })).catch(
      (e: unknown) => e,
    )) as ManifestMismatchError;
    expect(error.mismatches[0]).toEqual({
      path: 'one.bin',
      problem: 'size',
      expected: bytes.length,
      actual: 30,
    });
  });
});
