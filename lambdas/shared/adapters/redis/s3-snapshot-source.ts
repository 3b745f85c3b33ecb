import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  FEATURE_SNAPSHOT_PREFIX,
  MANIFEST_FILE_NAME,
  SNAPSHOT_ID_PATTERN,
  snapshotObjectKey,
} from '../../feature-snapshot';
import { ManifestMismatchError, parseManifest, type Manifest } from '../../manifest';
import type { OpenedSnapshotFile, SnapshotFileVersion, SnapshotSource } from './snapshot-source';

export interface S3SnapshotSourceProps {
  readonly s3: S3Client;
  /** A bucket in the region being restored (static stability). */
  readonly bucket: string;
  /** @default FEATURE_SNAPSHOT_PREFIX */
  readonly prefix?: string;
}

const isMissing = (err: unknown) => ['NoSuchKey', 'NotFound', 'NoSuchVersion'].includes((err as Error).name);

/** Feature snapshots in an S3 bucket, laid out as feature-snapshot.ts writes them. */
export class S3SnapshotSource implements SnapshotSource {
  readonly location: string;
  private readonly prefix: string;

  constructor(private readonly props: S3SnapshotSourceProps) {
    this.prefix = props.prefix ?? FEATURE_SNAPSHOT_PREFIX;
    this.location = `s3://${props.bucket}/${this.prefix}`;
  }

  async listSnapshots(): Promise<string[]> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.props.s3.send(
        new ListObjectsV2Command({
          Bucket: this.props.bucket,
          Prefix: this.prefix,
          ContinuationToken: token,
        }),
      );
      for (const { Key } of page.Contents ?? []) {
        const rest = Key?.slice(this.prefix.length).split('/');
        if (rest?.length === 2 && rest[1] === MANIFEST_FILE_NAME && SNAPSHOT_ID_PATTERN.test(rest[0]!))
          ids.push(rest[0]!);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return ids;
  }

  async readManifest(snapshotId: string): Promise<Manifest> {
    const key = snapshotObjectKey(this.prefix, snapshotId, MANIFEST_FILE_NAME);
    const object = await this.props.s3.send(new GetObjectCommand({ Bucket: this.props.bucket, Key: key }));
    const text = await object.Body!.transformToString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return parseManifest(json, `manifest s3://${this.props.bucket}/${key}`);
  }

  async openFile(
    snapshotId: string,
    file: string,
    pin?: SnapshotFileVersion,
  ): Promise<OpenedSnapshotFile | null> {
    const key = snapshotObjectKey(this.prefix, snapshotId, file);
    try {
      const object = await this.props.s3.send(
        new GetObjectCommand({
          Bucket: this.props.bucket,
          Key: key,
          ...(pin?.versionId ? { VersionId: pin.versionId } : pin?.etag ? { IfMatch: pin.etag } : {}),
        }),
      );
      return { body: object.Body as Readable, version: { versionId: object.VersionId, etag: object.ETag } };
    } catch (err) {
      if (pin && (err as Error).name === 'PreconditionFailed') {
        throw new ManifestMismatchError(`${file} changed after it was verified`, [
          { path: file, problem: 'content', detail: 'changed after verification' },
        ]);
      }
      if (isMissing(err)) return null;
      throw err;
    }
  }
}
