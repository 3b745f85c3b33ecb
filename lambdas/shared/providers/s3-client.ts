import { S3Client } from '@aws-sdk/client-s3';
import type { AwsClientConfig } from '../adapters/aws/client-config';

/** An S3 client; path-style addressing only against an endpoint override (moto has no virtual-host DNS). */
export const s3Client = (config: AwsClientConfig) =>
  new S3Client({ ...config, forcePathStyle: Boolean(config.endpoint) });
