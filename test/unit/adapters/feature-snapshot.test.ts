import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  newSnapshotId,
  SNAPSHOT_ID_PATTERN,
  writeFeatureSnapshot,
  type FeatureRecord,
} from '../../../lambdas/shared/feature-snapshot';
import { parseManifest, sha256Of, verifyAgainstManifest } from '../../../lambdas/shared/manifest';

const s3Mock = mockClient(S3Client);
const uploads = new Map<string, Buffer>();

async function bodyBytes(body: PutObjectCommandInput['Body']): Promise<Buffer> {
  if (typeof body === 'string') return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as Readable) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

beforeEach(() => {
  s3Mock.reset();
  uploads.clear();
  s3Mock.on(PutObjectCommand).callsFake(async (input: PutObjectCommandInput) => {
    uploads.set(input.Key!, await bodyBytes(input.Body));
    return { VersionId: `v${uploads.size}` };
  });
});

const records: FeatureRecord[] = [
  { key: 'feature:AAPL', fields: { vwap: '189.20', spread: '0.01' } },
  { key: 'feature:MSFT', fields: { vwap: '411.00' }, ttl: 300 },
  { key: 'feature:flag', value: 'on' },
];

describe('writeFeatureSnapshot', () => {
  test('uploads JSON-lines files with their SHA-256, then a manifest that verifies against them', async () => {
    const createdAt = new Date('2025-02-03T04:05:06.789Z');
    const written = await writeFeatureSnapshot({
      s3: new S3Client({ region: 'us-west-2' }),
      bucket: 'b',
      records,
      recordsPerFile: 2,
      createdAt,
      id: '20250203T040506789Z-00c0ffee',
    });

    const keys = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    const dir = 'feature-snapshots/20250203T040506789Z-00c0ffee/';
    expect(keys).toEqual([`${dir}features-00000.jsonl`, `${dir}features-00001.jsonl`, `${dir}manifest.json`]);
    const first = uploads.get(`${dir}features-00000.jsonl`)!.toString();
    expect(
      first
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(records.slice(0, 2));
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: `${dir}features-00000.jsonl`,
      ChecksumSHA256: Buffer.from(sha256Of(first), 'hex').toString('base64'),
      ContentLength: Buffer.byteLength(first),
    });

    const manifest = parseManifest(JSON.parse(uploads.get(`${dir}manifest.json`)!.toString()));
    expect(manifest).toEqual(written.manifest);
    expect(manifest).toMatchObject({
      kind: 'feature-snapshot',
      createdAt: createdAt.toISOString(),
      metadata: { recordCount: 3, snapshotId: written.id },
    });
    await expect(
      verifyAgainstManifest(manifest, async (f) => Readable.from([uploads.get(`${dir}${f.path}`)!])),
    ).resolves.toHaveLength(2);
  });

  test('an invalid record is refused before anything is uploaded', async () => {
    const bad = [records[0], { key: 'feature:x', fields: {} }] as never;
    await expect(
      writeFeatureSnapshot({ s3: new S3Client({ region: 'us-west-2' }), bucket: 'b', records: bad }),
    ).rejects.toThrow(/at least one field/);
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });
});

describe('newSnapshotId', () => {
  test('starts with the UTC time so ids sort by creation', () => {
    const earlier = newSnapshotId(new Date('2025-01-01T00:00:00.000Z'));
    const later = newSnapshotId(new Date('2025-01-01T00:00:00.001Z'));
    expect(earlier).toMatch(SNAPSHOT_ID_PATTERN);
    expect(earlier.startsWith('20250101T000000000Z-')).toBe(true);
    expect(later > earlier).toBe(true);
  });
});
