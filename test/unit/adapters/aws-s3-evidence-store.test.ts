import { createHash } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { S3EvidenceStore } from '../../../lambdas/shared/adapters/aws/s3-evidence-store';
import { InvalidInputError } from '../../../lambdas/shared/errors';

const s3Mock = mockClient(S3Client);
const NOW = new Date('2025-03-01T12:00:00.000Z');
const body = '{"outcome":"succeeded"}';
const digest = createHash('sha256').update(body).digest();
const notFound = () =>
  Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
const store = (extra: { kmsKeyId?: string; retentionDays?: number } = {}) =>
  new S3EvidenceStore({
    s3: new S3Client({ region: 'us-west-2' }),
    bucket: 'tradepulse-dr-evidence-us-west-2',
    keyPrefix: 'reports/disaster-recovery/run-1/',
    retentionDays: 30,
    now: () => NOW,
    ...extra,
  });

beforeEach(() => {
  s3Mock.reset();
});

describe('S3EvidenceStore', () => {
  test('one PutObject with SHA-256 checksum, COMPLIANCE retention and SSE-S3 by default', async () => {
    s3Mock.on(HeadObjectCommand).rejects(notFound());
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1', ChecksumSHA256: digest.toString('base64') });

    const result = await store().put('report.json', body, 'application/json');

    expect(result).toEqual({
      key: 'reports/disaster-recovery/run-1/report.json',
      versionId: 'v1',
      sha256: digest.toString('hex'),
      retainUntil: '2025-03-31T12:00:00.000Z',
      alreadyDone: false,
    });
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    const input = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'tradepulse-dr-evidence-us-west-2',
      Key: 'reports/disaster-recovery/run-1/report.json',
      ContentType: 'application/json',
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: digest.toString('base64'),
      Metadata: { sha256: digest.toString('hex') },
      ObjectLockMode: 'COMPLIANCE',
      ObjectLockRetainUntilDate: new Date('2025-03-31T12:00:00.000Z'),
      ServerSideEncryption: 'AES256',
    });
    expect(input.SSEKMSKeyId).toBeUndefined();
    expect(Buffer.from(input.Body as Buffer).toString('utf8')).toBe(body);
  });

  test('SSE-KMS with the configured key', async () => {
    s3Mock.on(HeadObjectCommand).rejects(notFound());
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
    await store({ kmsKeyId: 'alias/tradepulse-dr' }).put(
      'report.json',
      Buffer.from(body),
      'application/json',
    );
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'alias/tradepulse-dr',
    });
  });

  test('the same bytes already stored under the key (a re-drive) write no second version', async () => {
    s3Mock.on(HeadObjectCommand).resolves({
      VersionId: 'v1',
      Metadata: { sha256: digest.toString('hex') },
      ObjectLockRetainUntilDate: new Date('2025-03-31T12:00:00.000Z'),
    });
    expect(await store().put('report.json', body, 'application/json')).toEqual({
      key: 'reports/disaster-recovery/run-1/report.json',
      alreadyDone: true,
      versionId: 'v1',
      sha256: digest.toString('hex'),
      retainUntil: '2025-03-31T12:00:00.000Z',
    });
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  test('different bytes under an existing key are written as a new version (the old one stays locked)', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ VersionId: 'v1', Metadata: { sha256: 'something-else' } });
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v2' });
    expect((await store().put('report.json', body, 'application/json')).versionId).toBe('v2');
  });

  test('a checksum S3 reports differently from ours fails the put', async () => {
    s3Mock.on(HeadObjectCommand).rejects(notFound());
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1', ChecksumSHA256: 'AAAA' });
    await expect(store().put('report.json', body, 'application/json')).rejects.toThrow(/with SHA-256 AAAA/);
  });

  test('retention must be whole days ≥ 1', () => {
    expect(() => store({ retentionDays: 0 })).toThrow(InvalidInputError);
    expect(() => store({ retentionDays: 1.5 })).toThrow(InvalidInputError);
  });
});
