/**
 * The audit export's AWS calls with aws-sdk-client-mock: KMS data keys (context, pinned key
 * on Decrypt, every refusal turned into a clear AuditExportKeyError) and the archiver (upload
 * unlocked, read back, lock, read the lock back; roll back what it wrote).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ExportArchiver, compositeSha256 } from '../../../integrity/audit-export/archive';
import { KmsDataKeyProvider } from '../../../integrity/audit-export/data-keys';
import { AuditExportArchiveError, AuditExportKeyError } from '../../../integrity/audit-export/errors';
import { TransientError } from '../../../lambdas/shared/errors';
import { manifestEntryFor } from '../../../lambdas/shared/manifest';

const kmsMock = mockClient(KMSClient);
const s3Mock = mockClient(S3Client);
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1111';
const CONTEXT = { purpose: 'tradepulse-dr-audit-export', runId: 'r1', table: 'orders' };
const awsError = (name: string) => Object.assign(new Error(''), { name, $metadata: { httpStatusCode: 400 } });

beforeEach(() => {
  kmsMock.reset();
  s3Mock.reset();
});

describe('KMS data keys', () => {
  const provider = () =>
    new KmsDataKeyProvider(new KMSClient({ region: 'us-east-1' }), 'alias/tradepulse-dr-evidence');

  it('generates an AES-256 data key with the encryption context and reports the key ARN', async () => {
    kmsMock.on(GenerateDataKeyCommand).resolves({
      Plaintext: new Uint8Array(32).fill(7),
      CiphertextBlob: new Uint8Array([1, 2, 3]),
      KeyId: KEY,
    });
    const key = await provider().generateDataKey(CONTEXT);
    expect(key.keyId).toBe(KEY);
    expect(kmsMock).toHaveReceivedCommandWith(GenerateDataKeyCommand, {
      KeyId: 'alias/tradepulse-dr-evidence',
      KeySpec: 'AES_256',
      EncryptionContext: CONTEXT,
    });
  });

  it('decrypts with the key id pinned and the context passed', async () => {
    kmsMock.on(DecryptCommand).resolves({ Plaintext: new Uint8Array(32), KeyId: KEY });
    await provider().decryptDataKey({ encrypted: new Uint8Array([1]), context: CONTEXT, keyId: KEY });
    expect(kmsMock).toHaveReceivedCommandWith(DecryptCommand, { KeyId: KEY, EncryptionContext: CONTEXT });
  });

  it.each([
    [
      'InvalidCiphertextException',
      /encryption context \{purpose=tradepulse-dr-audit-export, runId=r1, table=orders\} is not the one/,
    ],
    ['IncorrectKeyException', /encrypted under a different KMS key/],
    ['AccessDeniedException', /encrypted under a different KMS key, or this caller may not use the key/],
    ['NotFoundException', /cannot decrypt \(NotFoundException\)/],
  ])('a %s becomes a clear AuditExportKeyError', async (name, message) => {
    kmsMock.on(DecryptCommand).rejects(awsError(name));
    const attempt = provider().decryptDataKey({
      encrypted: new Uint8Array([1]),
      context: CONTEXT,
      keyId: KEY,
    });
    await expect(attempt).rejects.toThrow(AuditExportKeyError);
    await expect(
      provider().decryptDataKey({ encrypted: new Uint8Array([1]), context: CONTEXT, keyId: KEY }),
    ).rejects.toThrow(message);
  });

  it('a throttle stays retryable (TransientError)', async () => {
    kmsMock.on(DecryptCommand).rejects(awsError('ThrottlingException'));
    await expect(
      provider().decryptDataKey({ encrypted: new Uint8Array([1]), context: CONTEXT, keyId: KEY }),
    ).rejects.toThrow(TransientError);
  });

  it('an unknown key is named when generating', async () => {
    kmsMock.on(GenerateDataKeyCommand).rejects(awsError('NotFoundException'));
    await expect(provider().generateDataKey(CONTEXT)).rejects.toThrow(
      'KMS key alias/tradepulse-dr-evidence cannot generate data keys: NotFoundException',
    );
  });
});

describe('ExportArchiver', () => {
  const RETAIN = new Date('2033-01-01T00:00:00Z');
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-archiver-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const archiver = () =>
    new ExportArchiver({
      s3: new S3Client({ region: 'us-east-1' }),
      bucket: 'evidence',
      keyPrefix: 'disaster-recovery/audit-exports/',
      retainUntil: RETAIN,
    });

  async function staged(name: string, size: number, partSize?: number) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, Buffer.alloc(size, 0x61));
    const entry = await manifestEntryFor(name, fs.createReadStream(file), partSize ? { partSize } : {});
    return { file, entry };
  }

  it('uploads unlocked, checks size and SHA-256, then locks with PutObjectRetention and reads the lock back', async () => {
    const { file, entry } = await staged('orders.csv.enc', 1000);
    const checksum = Buffer.from(entry.sha256, 'hex').toString('base64');
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
    s3Mock
      .on(HeadObjectCommand)
      .resolvesOnce({ ContentLength: 1000, ChecksumSHA256: checksum })
      .resolves({ ContentLength: 1000, ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: RETAIN });
    s3Mock.on(PutObjectRetentionCommand).resolves({});
    const a = archiver();
    const key = a.keyFor('run-1', entry.path);
    const uploaded = await a.uploadUnlocked(key, file, entry, 'application/octet-stream');
    expect(uploaded).toEqual({ key, versionId: 'v1', upload: 'single-part', s3ChecksumVerified: true });
    const put = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put.ObjectLockMode).toBeUndefined();
    expect(put).toMatchObject({
      Key: 'disaster-recovery/audit-exports/run-1/orders.csv.enc',
      ChecksumSHA256: checksum,
    });
    const locked = await a.lock(uploaded);
    expect(locked).toMatchObject({
      objectLockMode: 'COMPLIANCE',
      retainUntil: RETAIN.toISOString(),
      lockAppliedWith: 'PutObjectRetention',
    });
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectRetentionCommand, {
      Key: key,
      VersionId: 'v1',
      Retention: { Mode: 'COMPLIANCE', RetainUntilDate: RETAIN },
    });
  });

  it('refuses an upload S3 reports with another size or checksum', async () => {
    const { file, entry } = await staged('fills.csv.enc', 10);
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
    s3Mock
      .on(HeadObjectCommand)
      .resolvesOnce({ ContentLength: 9 })
      .resolves({ ContentLength: 10, ChecksumSHA256: 'AAAA' });
    await expect(archiver().uploadUnlocked('k', file, entry, 'x')).rejects.toThrow(
      'holds 9 bytes after the upload, not 10',
    );
    await expect(archiver().uploadUnlocked('k', file, entry, 'x')).rejects.toThrow(
      /has SHA-256 checksum AAAA/,
    );
  });

  it('a lock that does not read back as COMPLIANCE until the date is an error', async () => {
    s3Mock.on(PutObjectRetentionCommand).resolves({});
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 1 });
    await expect(
      archiver().lock({ key: 'k', versionId: 'v1', upload: 'multipart', s3ChecksumVerified: false }),
    ).rejects.toThrow(AuditExportArchiveError);
    s3Mock
      .on(HeadObjectCommand)
      .resolves({ ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: RETAIN });
    await expect(
      archiver().lock({ key: 'k', versionId: 'v1', upload: 'multipart', s3ChecksumVerified: false }),
    ).rejects.toThrow(/mode GOVERNANCE/);
  });

  it('uploads a file listed in parts as a multipart upload with each part’s SHA-256 and checks the composite checksum', async () => {
    const partSize = 5 * 1024 * 1024;
    const { file, entry } = await staged('big.csv.enc', 2 * partSize + 10, partSize);
    expect(entry.parts).toHaveLength(3);
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3Mock
      .on(UploadPartCommand)
      .callsFake((input: { PartNumber: number }) => ({ ETag: `"e${input.PartNumber}"` }));
    s3Mock.on(CompleteMultipartUploadCommand).resolves({ VersionId: 'v9' });
    s3Mock
      .on(HeadObjectCommand)
      .resolves({ ContentLength: entry.size, ChecksumSHA256: compositeSha256(entry.parts!) });
    const uploaded = await archiver().uploadUnlocked('k', file, entry, 'x');
    expect(uploaded).toEqual({ key: 'k', versionId: 'v9', upload: 'multipart', s3ChecksumVerified: true });
    const parts = s3Mock.commandCalls(UploadPartCommand).map((c) => c.args[0].input);
    expect(parts.map((p) => [p.PartNumber, p.ContentLength, p.ChecksumSHA256])).toEqual(
      entry.parts!.map((p) => [p.index + 1, p.size, Buffer.from(p.sha256, 'hex').toString('base64')]),
    );
    expect(s3Mock).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      MultipartUpload: {
        Parts: parts.map((p) => ({
          PartNumber: p.PartNumber,
          ETag: `"e${p.PartNumber}"`,
          ChecksumSHA256: p.ChecksumSHA256,
        })),
      },
    });
  });

  it('a failed part aborts the multipart upload', async () => {
    const partSize = 5 * 1024 * 1024;
    const { file, entry } = await staged('big2.csv.enc', partSize + 1, partSize);
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u2' });
    s3Mock.on(UploadPartCommand).rejects(awsError('InvalidDigest'));
    s3Mock.on(AbortMultipartUploadCommand).resolves({});
    await expect(archiver().uploadUnlocked('k', file, entry, 'x')).rejects.toThrow();
    expect(s3Mock).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { UploadId: 'u2', Key: 'k' });
  });

  it('rollback deletes every version it wrote and names those S3 refuses to delete', async () => {
    const { file, entry } = await staged('a.csv.enc', 3);
    s3Mock.on(PutObjectCommand).resolvesOnce({ VersionId: 'v1' }).resolvesOnce({ VersionId: 'v2' });
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 3 });
    s3Mock.on(DeleteObjectCommand, { VersionId: 'v1' }).resolves({});
    s3Mock.on(DeleteObjectCommand, { VersionId: 'v2' }).rejects(awsError('AccessDenied'));
    const a = archiver();
    await a.uploadUnlocked('k1', file, entry, 'x');
    await a.uploadUnlocked('k2', file, entry, 'x');
    expect(await a.rollback()).toEqual([{ key: 'k2', versionId: 'v2', reason: 'AccessDenied' }]);
    expect(s3Mock).toHaveReceivedCommandTimes(DeleteObjectCommand, 2);
    expect(await a.rollback()).toEqual([]);
  });
});
