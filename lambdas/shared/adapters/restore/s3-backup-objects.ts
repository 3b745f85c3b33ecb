import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BackupNotFoundError } from '../../backup/errors';
import { awsCall, awsErrorName } from '../aws/aws-call';
import type { BackupObjectHasher } from '../../backup-validation/dependencies';

/** Hashes a stored backup object as stored (ciphertext), streamed: memory stays bounded whatever its size. */
export class S3BackupObjectHasher implements BackupObjectHasher {
  constructor(private readonly props: { s3: S3Client; bucket: string }) {}

  async ciphertextSha256(key: string): Promise<{ sha256: string; bytes: number }> {
    const response = await awsCall(() =>
      this.props.s3.send(new GetObjectCommand({ Bucket: this.props.bucket, Key: key })),
    ).catch((err: unknown) => {
      if (['NoSuchKey', 'NotFound'].includes(awsErrorName(err) ?? ''))
        throw new BackupNotFoundError(`backup object s3://${this.props.bucket}/${key} does not exist`, {
          reason: 'missing',
          key,
        });
      throw err;
    });
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of response.Body as Readable) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { sha256: hash.digest('hex'), bytes };
  }
}
