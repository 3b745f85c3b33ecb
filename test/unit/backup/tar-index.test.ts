/**
 * The base backup's tar stream passes through TarIndexer unchanged up to its end marker,
 * every regular file listed with its size and SHA-256; entries appended at the end (WAL
 * segments) are valid tar entries GNU tar extracts; a corrupt header or a stream that ends
 * inside an entry fails.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupFailedError } from '../../../lambdas/shared/backup/errors';
import { TarIndexer, type AppendedEntry } from '../../../lambdas/shared/backup/tar-index';
import { walSegmentName, parseBasebackupLog } from '../../../lambdas/shared/backup/take-postgres';

let dir: string;
const files: Record<string, Buffer> = {
  PG_VERSION: Buffer.from('15\n'),
  'base/1/1259': randomBytes(70_000),
  'global/pg_control': randomBytes(8192),
  'empty-file': Buffer.alloc(0),
  [`deep/${'n'.repeat(90)}/name-longer-than-one-hundred-bytes`]: randomBytes(513),
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tar-index-'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, 'src', name)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src', name), content);
  }
  execFileSync('tar', ['-cf', path.join(dir, 'a.tar'), '-C', path.join(dir, 'src'), '.']);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function index(input: Buffer, append?: ConstructorParameters<typeof TarIndexer>[0]) {
  const indexer = new TarIndexer(append);
  const out: Buffer[] = [];
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i += 3001) chunks.push(input.subarray(i, i + 3001));
  await pipeline(
    Readable.from(chunks),
    indexer,
    new Writable({
      write(c: Buffer, _e, done) {
        out.push(c);
        done();
      },
    }),
  );
  return { indexer, output: Buffer.concat(out) };
}

test('lists every regular file with size and SHA-256 and passes the archive through', async () => {
  const tar = fs.readFileSync(path.join(dir, 'a.tar'));
  const { indexer, output } = await index(tar);
  const listed = Object.fromEntries(indexer.files.map((f) => [f.path.replace(/^\.\//, ''), f]));
  for (const [name, content] of Object.entries(files))
    expect(listed[name]).toEqual({ path: expect.any(String), bytes: content.length, sha256: sha(content) });
  expect(indexer.files).toHaveLength(Object.keys(files).length);
  // Identical up to the end marker; then exactly two zero blocks (tar's record padding dropped).
  expect(output.subarray(0, output.length - 1024).equals(tar.subarray(0, output.length - 1024))).toBe(true);
  expect(output.subarray(output.length - 1024).every((b) => b === 0)).toBe(true);
});

test('appended entries are valid tar entries listed like the others', async () => {
  const tar = fs.readFileSync(path.join(dir, 'a.tar'));
  const segment = randomBytes(40_000);
  async function* append(): AsyncIterable<AppendedEntry> {
    yield {
      path: 'pg_wal/000000010000000000000004',
      bytes: segment.length,
      chunks: Readable.from([segment.subarray(0, 100), segment.subarray(100)]),
    };
  }
  const { indexer, output } = await index(tar, append);
  expect(indexer.appended).toEqual(['pg_wal/000000010000000000000004']);
  expect(indexer.files.at(-1)).toEqual({
    path: 'pg_wal/000000010000000000000004',
    bytes: 40_000,
    sha256: sha(segment),
  });
  const outFile = path.join(dir, 'out.tar');
  fs.writeFileSync(outFile, output);
  const extracted = path.join(dir, 'x');
  fs.mkdirSync(extracted);
  execFileSync('tar', ['-xf', outFile, '-C', extracted]);
  expect(fs.readFileSync(path.join(extracted, 'pg_wal/000000010000000000000004')).equals(segment)).toBe(true);
  expect(fs.readFileSync(path.join(extracted, 'base/1/1259')).equals(files['base/1/1259']!)).toBe(true);
});

test('a header with a bad checksum and a truncated archive are refused', async () => {
  const tar = Buffer.from(fs.readFileSync(path.join(dir, 'a.tar')));
  const corrupt = Buffer.from(tar);
  corrupt[1]! ^= 0x01;
  await expect(index(corrupt)).rejects.toThrow(BackupFailedError);
  await expect(index(tar.subarray(0, 5000))).rejects.toThrow(/ended inside an entry/);
});

test('WAL segment names and pg_basebackup -v output', () => {
  const seg = 16 * 1024 * 1024;
  expect(walSegmentName(1, 0x3001f88n, seg)).toBe('000000010000000000000003');
  expect(walSegmentName(2, (1n << 32n) + 5n * BigInt(seg), seg)).toBe('000000020000000100000005');
  expect(
    parseBasebackupLog(
      'pg_basebackup: initiating base backup, waiting for checkpoint to complete\npg_basebackup: write-ahead log start point: 0/2000028 on timeline 1\npg_basebackup: write-ahead log end point: 0/3001F88\n',
    ),
  ).toEqual({ startLsn: '0/2000028', endLsn: '0/3001F88', timeline: 1 });
});
