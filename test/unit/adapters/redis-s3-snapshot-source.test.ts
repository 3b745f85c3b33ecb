import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { Readable } from 'node:stream';
import { S3SnapshotSource } from '../../../lambdas/shared/adapters/redis/s3-snapshot-source';
import {
  buildManifest,
  ManifestInvalidError,
  ManifestMismatchError,
  sha256Of,
} from '../../../lambdas/shared/manifest';

const s3Mock = mockClient(S3Client);
const source = () => new S3SnapshotSource({ s3: new S3Client({ region: 'us-west-2' }), bucket: 'evidence' });
/** What the SDK returns as Body in Node: a Readable with transformToString. */
const body = (text: string) =>
  Object.assign(Readable.from([Buffer.from(text)]), { transformToString: async () => text }) as never;
const error = (name: string) => Object.assign(new Error(name), { name, $metadata: {} });
const ID = '20250101T000000000Z-0000000a';

beforeEach(() => s3Mock.reset());

describe('S3SnapshotSource', () => {
  test('lists only complete snapshots (a manifest present) across pages', async () => {
    s3Mock
      .on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({
        IsTruncated: true,
        NextContinuationToken: 't2',
        Contents: [
          { Key: `feature-snapshots/${ID}/features-00000.jsonl` },
          { Key: `feature-snapshots/${ID}/manifest.json` },
        ],
      })
      .on(ListObjectsV2Command, { ContinuationToken: 't2' })
      .resolves({
        IsTruncated: false,
        Contents: [
          { Key: 'feature-snapshots/20250102T000000000Z-0000000b/features-00000.jsonl' }, // still being written
          { Key: 'feature-snapshots/not-a-snapshot/manifest.json' },
        ],
      });
    expect(await source().listSnapshots()).toEqual([ID]);
    expect(s3Mock).toHaveReceivedCommandWith(ListObjectsV2Command, {
      Bucket: 'evidence',
      Prefix: 'feature-snapshots/',
    });
  });

  test('reads and validates a manifest', async () => {
    const manifest = buildManifest({
      kind: 'feature-snapshot',
      files: [{ path: 'features-00000.jsonl', size: 1, sha256: sha256Of('x') }],
    });
    s3Mock
      .on(GetObjectCommand, { Key: `feature-snapshots/${ID}/manifest.json` })
      .resolves({ Body: body(JSON.stringify(manifest)) });
    expect(await source().readManifest(ID)).toEqual(manifest);
    s3Mock
      .on(GetObjectCommand, { Key: `feature-snapshots/${ID}/manifest.json` })
      .resolves({ Body: body('{"version":1') });
    await expect(source().readManifest(ID)).rejects.toThrow(ManifestInvalidError);
  });

  test('opens a file and reports its version; re-opens exactly that version when pinned', async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: body('line\n'), VersionId: 'v7', ETag: '"e"' });
    const opened = await source().openFile(ID, 'features-00000.jsonl');
    expect(opened!.version).toEqual({ versionId: 'v7', etag: '"e"' });
    await source().openFile(ID, 'features-00000.jsonl', opened!.version);
    expect(s3Mock).toHaveReceivedNthCommandWith(2, GetObjectCommand, {
      Key: `feature-snapshots/${ID}/features-00000.jsonl`,
      VersionId: 'v7',
    });
    await source().openFile(ID, 'features-00000.jsonl', { etag: '"e"' });
    expect(s3Mock).toHaveReceivedNthCommandWith(3, GetObjectCommand, { IfMatch: '"e"' });
  });

  test('a missing file is null; a pinned file that changed is a manifest mismatch', async () => {
    s3Mock.on(GetObjectCommand).rejects(error('NoSuchKey'));
    expect(await source().openFile(ID, 'features-00009.jsonl')).toBeNull();
    s3Mock.on(GetObjectCommand).rejects(error('PreconditionFailed'));
    await expect(source().openFile(ID, 'features-00000.jsonl', { etag: '"old"' })).rejects.toThrow(
      ManifestMismatchError,
    );
  });
});
