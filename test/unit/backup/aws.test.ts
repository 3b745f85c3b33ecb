/**
 * The backups' AWS calls with aws-sdk-client-mock: KMS Sign/Verify of the manifest digest,
 * KMS GenerateDataKey/Decrypt of the data keys (context, pinned key, refusals as
 * BackupIntegrityError 'key'), the streamed multipart upload to S3 (per-part SHA-256, abort
 * on failure), and RDS / Aurora snapshots (create, wait until available, idempotent, failed).
 */
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DecryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  SignCommand,
  VerifyCommand,
} from '@aws-sdk/client-kms';
import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { backupDataKeys } from '../../../lambdas/shared/backup/envelope';
import {
  BackupFailedError,
  BackupIntegrityError,
  BackupSignatureError,
} from '../../../lambdas/shared/backup/errors';
import { BackupObjectStore, MIN_PART_BYTES } from '../../../lambdas/shared/backup/object-store';
import { snapshotIdentifierFor, takeRdsSnapshot } from '../../../lambdas/shared/backup/rds-snapshot';
import { KmsManifestSigner } from '../../../lambdas/shared/backup/signing';

const kmsMock = mockClient(KMSClient);
const s3Mock = mockClient(S3Client);
const rdsMock = mockClient(RDSClient);
const awsError = (name: string) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 400 } });
const SIGNING = 'arn:aws:kms:us-west-2:123456789012:key/signing';
const DATA = 'arn:aws:kms:us-west-2:123456789012:key/data';

beforeEach(() => {
  kmsMock.reset();
  s3Mock.reset();
  rdsMock.reset();
});

describe('manifest signatures (KMS Sign / Verify)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const PSS = 6; // RSA_PKCS1_PSS_PADDING
  // KMS with a real RSA key: signs the digest it is given, verifies against it.
  beforeEach(() => {
    kmsMock.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({
      KeyId: SIGNING,
      Signature: sign('sha256', input.Message, { key: privateKey, padding: PSS }),
      SigningAlgorithm: 'RSASSA_PSS_SHA_256',
    }));
    kmsMock.on(VerifyCommand).callsFake((input: { Message: Uint8Array; Signature: Uint8Array }) => {
      if (!verify('sha256', input.Message, { key: publicKey, padding: PSS }, input.Signature))
        throw awsError('KMSInvalidSignatureException');
      return { KeyId: SIGNING, SignatureValid: true, SigningAlgorithm: 'RSASSA_PSS_SHA_256' };
    });
  });
  const manifest = Buffer.from(JSON.stringify({ backupId: 'x', objects: [{ sha256: 'a'.repeat(64) }] }));

  test('signs the SHA-256 of the exact bytes (DIGEST, RSASSA_PSS_SHA_256) and verifies them', async () => {
    const signer = new KmsManifestSigner(new KMSClient({}), SIGNING);
    const signature = await signer.sign(manifest, new Date('2026-11-27T04:30:00Z'));
    const digest = createHash('sha256').update(manifest).digest();
    expect(kmsMock).toHaveReceivedCommandWith(SignCommand, {
      KeyId: SIGNING,
      Message: digest,
      MessageType: 'DIGEST',
      SigningAlgorithm: 'RSASSA_PSS_SHA_256',
    });
    expect(signature).toMatchObject({
      keyId: SIGNING,
      manifestSha256: digest.toString('hex'),
      messageType: 'DIGEST',
    });
    await expect(signer.verify(manifest, signature, 'm.json')).resolves.toBeUndefined();
    expect(kmsMock).toHaveReceivedCommandWith(VerifyCommand, {
      KeyId: SIGNING,
      MessageType: 'DIGEST',
      Message: digest,
    });
  });

  test('one changed manifest byte fails verification', async () => {
    const signer = new KmsManifestSigner(new KMSClient({}), SIGNING);
    const signature = await signer.sign(manifest, new Date());
    const changed = Buffer.from(manifest);
    changed[changed.length - 3]! ^= 0x01;
    await expect(signer.verify(changed, signature, 'm.json')).rejects.toThrow(BackupSignatureError);
    // …even when whoever changed it also rewrote the digest in the signature file: KMS refuses.
    const forged = { ...signature, manifestSha256: createHash('sha256').update(changed).digest('hex') };
    await expect(signer.verify(changed, forged, 'm.json')).rejects.toMatchObject({
      name: 'BackupSignatureError',
      details: { reason: 'signature' },
    });
  });

  test('a signature KMS reports invalid (SignatureValid false, as moto answers) is refused', async () => {
    kmsMock.on(VerifyCommand).resolves({ SignatureValid: false });
    const signer = new KmsManifestSigner(new KMSClient({}), SIGNING);
    const digest = createHash('sha256').update(manifest).digest('hex');
    await expect(
      signer.verify(
        manifest,
        {
          schemaVersion: 1,
          algorithm: 'RSASSA_PSS_SHA_256',
          messageType: 'DIGEST',
          keyId: 'arn:aws:kms:us-west-2:123456789012:key/other',
          manifestSha256: digest,
          signature: 'AAAA',
          signedAt: new Date().toISOString(),
        },
        'm.json',
      ),
    ).rejects.toThrow(/does not verify under .*signing/);
  });
});

describe('data keys (KMS GenerateDataKey / Decrypt)', () => {
  const context = { purpose: 'tradepulse-dr-backup', backupId: 'b', object: 'base.tar' };

  test('generated under the data key with the encryption context; decrypted with the key pinned', async () => {
    kmsMock.on(GenerateDataKeyCommand).resolves({
      Plaintext: new Uint8Array(32).fill(7),
      CiphertextBlob: new Uint8Array([1, 2]),
      KeyId: DATA,
    });
    kmsMock.on(DecryptCommand).resolves({ Plaintext: new Uint8Array(32).fill(7) });
    const keys = backupDataKeys(new KMSClient({}), 'alias/tradepulse-dr-evidence');
    const key = await keys.generateDataKey(context);
    expect(key.keyId).toBe(DATA);
    expect(kmsMock).toHaveReceivedCommandWith(GenerateDataKeyCommand, {
      KeyId: 'alias/tradepulse-dr-evidence',
      KeySpec: 'AES_256',
      EncryptionContext: context,
    });
    await keys.decryptDataKey({ encrypted: key.encrypted, context, keyId: DATA });
    expect(kmsMock).toHaveReceivedCommandWith(DecryptCommand, { KeyId: DATA, EncryptionContext: context });
  });

  test.each(['InvalidCiphertextException', 'IncorrectKeyException', 'AccessDeniedException'])(
    'Decrypt refused with %s is a BackupIntegrityError (reason key)',
    async (name) => {
      kmsMock.on(DecryptCommand).rejects(awsError(name));
      const keys = backupDataKeys(new KMSClient({}), DATA);
      const refused = keys.decryptDataKey({ encrypted: new Uint8Array([1]), context, keyId: DATA });
      await expect(refused).rejects.toThrow(BackupIntegrityError);
      await expect(refused).rejects.toMatchObject({ details: { reason: 'key' } });
    },
  );
});

describe('streamed upload to S3', () => {
  const chunks = (total: number, size = 1024 * 1024) => {
    const out: Buffer[] = [];
    for (let at = 0; at < total; at += size) out.push(Buffer.alloc(Math.min(size, total - at), at % 251));
    return out;
  };

  test('a stream larger than a part goes up in parts, each with its SHA-256, then is completed', async () => {
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3Mock
      .on(UploadPartCommand)
      .callsFake((input: { PartNumber: number }) => ({ ETag: `"e${input.PartNumber}"` }));
    s3Mock.on(CompleteMultipartUploadCommand).resolves({ VersionId: 'v1' });
    const store = new BackupObjectStore(new S3Client({}), 'bucket', MIN_PART_BYTES);
    const total = 2 * MIN_PART_BYTES + 123;
    const result = await store.uploadStream('k', Readable.from(chunks(total)), 'application/octet-stream');
    expect(result).toEqual({ key: 'k', bytes: total, parts: 3, versionId: 'v1' });
    const parts = s3Mock.commandCalls(UploadPartCommand).map((c) => c.args[0].input);
    expect(parts.map((p) => p.ContentLength)).toEqual([MIN_PART_BYTES, MIN_PART_BYTES, 123]);
    for (const p of parts)
      expect(p.ChecksumSHA256).toBe(
        createHash('sha256')
          .update(p.Body as Buffer)
          .digest('base64'),
      );
    expect(kmsMock.calls()).toHaveLength(0);
    expect(s3Mock).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      UploadId: 'u1',
      MultipartUpload: {
        Parts: parts.map((p, i) => ({
          PartNumber: i + 1,
          ETag: `"e${i + 1}"`,
          ChecksumSHA256: p.ChecksumSHA256,
        })),
      },
    });
  });

  test('a stream smaller than a part is one PutObject', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const store = new BackupObjectStore(new S3Client({}), 'bucket', MIN_PART_BYTES);
    await store.uploadStream('k', Readable.from([Buffer.from('small')]), 'application/json');
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: 'k',
      ChecksumSHA256: createHash('sha256').update('small').digest('base64'),
    });
    expect(s3Mock).not.toHaveReceivedCommand(CreateMultipartUploadCommand);
  });

  test('a failing source aborts the multipart upload: nothing half-written remains', async () => {
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u2' });
    s3Mock.on(UploadPartCommand).resolves({ ETag: '"e"' });
    const store = new BackupObjectStore(new S3Client({}), 'bucket', MIN_PART_BYTES);
    async function* failing() {
      yield* chunks(MIN_PART_BYTES + 10);
      throw new Error('pg_basebackup died');
    }
    await expect(store.uploadStream('k', failing(), 'application/x-tar')).rejects.toThrow(
      'pg_basebackup died',
    );
    expect(s3Mock).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { UploadId: 'u2', Key: 'k' });
    expect(s3Mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });
});

test('a part S3 refuses fails the upload and aborts it, even with the next part already filling', async () => {
  s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u3' });
  s3Mock.on(UploadPartCommand).rejects(awsError('BadDigest'));
  const store = new BackupObjectStore(new S3Client({}), 'bucket', MIN_PART_BYTES);
  const body = Readable.from(Array.from({ length: 4 * 5 }, () => Buffer.alloc(1024 * 1024, 1)));
  await expect(store.uploadStream('k', body, 'application/x-tar')).rejects.toThrow();
  expect(s3Mock).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { UploadId: 'u3' });
  expect(s3Mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
});

describe('RDS and Aurora snapshots', () => {
  const aggregates = {
    capturedAt: '2026-11-27T04:30:00.000000Z',
    lsn: '0/3000000',
    tables: { orders: { rows: 5 } },
    balancesByAccount: {},
    positionsByAccountInstrument: {},
    maxSeq: { orders: 5 },
  };
  const source = (kind: 'rds-snapshot' | 'aurora-cluster-snapshot') => ({
    kind,
    rds: new RDSClient({}),
    identifier: kind === 'rds-snapshot' ? 'tradepulse-db' : 'tradepulse-cluster',
    readAggregates: async () => ({ aggregates, serverVersion: 150010, endpoint: 'db.example:5432' }),
    pollIntervalMs: 1,
    sleep: async () => {},
  });
  const BACKUP = 'postgres-20261127T043000123Z-1a2b3c4d';
  const ID = snapshotIdentifierFor(BACKUP);
  const notFound = () => awsError('DBSnapshotNotFoundFault');

  test('CreateDBSnapshot, then waits until available; the manifest names the snapshot and marks the aggregates read-before', async () => {
    rdsMock
      .on(DescribeDBSnapshotsCommand)
      .rejectsOnce(notFound())
      .resolvesOnce({ DBSnapshots: [{ Status: 'creating' }] })
      .resolves({
        DBSnapshots: [
          {
            Status: 'available',
            DBSnapshotArn: `arn:aws:rds:us-east-1:1:snapshot:${ID}`,
            EngineVersion: '15.10',
          },
        ],
      });
    rdsMock.on(CreateDBSnapshotCommand).resolves({});
    const taken = await takeRdsSnapshot(source('rds-snapshot'), BACKUP);
    expect(rdsMock).toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBInstanceIdentifier: 'tradepulse-db',
      DBSnapshotIdentifier: ID,
    });
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 3);
    expect(taken.postgres).toMatchObject({
      method: 'rds-snapshot',
      restore: null,
      files: [],
      aggregatesConsistency: 'read-before-snapshot',
      snapshot: { identifier: ID, arn: `arn:aws:rds:us-east-1:1:snapshot:${ID}`, engineVersion: '15.10' },
    });
  });

  test('a retry finds the snapshot of this backup and does not create a second one', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [{ Status: 'available', DBSnapshotArn: 'arn:aws:rds:::x', EngineVersion: '15' }],
    });
    await takeRdsSnapshot(source('rds-snapshot'), BACKUP);
    expect(rdsMock).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
  });

  test('Aurora: CreateDBClusterSnapshot; a failed snapshot is a BackupFailedError', async () => {
    rdsMock
      .on(DescribeDBClusterSnapshotsCommand)
      .rejectsOnce(awsError('DBClusterSnapshotNotFoundFault'))
      .resolves({ DBClusterSnapshots: [{ Status: 'failed' }] });
    rdsMock.on(CreateDBClusterSnapshotCommand).resolves({});
    await expect(takeRdsSnapshot(source('aurora-cluster-snapshot'), BACKUP)).rejects.toThrow(
      BackupFailedError,
    );
    expect(rdsMock).toHaveReceivedCommandWith(CreateDBClusterSnapshotCommand, {
      DBClusterIdentifier: 'tradepulse-cluster',
      DBClusterSnapshotIdentifier: ID,
    });
  });
});
