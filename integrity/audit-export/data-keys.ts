import type { KMSClient } from '@aws-sdk/client-kms';
import { KmsDataKeyProvider as EnvelopeKmsDataKeyProvider } from '../../lambdas/shared/envelope/data-keys';
import { AuditExportKeyError } from './errors';

export type { DataKeyProvider } from '../../lambdas/shared/envelope/data-keys';

/** KMS data keys for audit exports; a refused key is an AuditExportKeyError. */
export class KmsDataKeyProvider extends EnvelopeKmsDataKeyProvider {
  constructor(kms: KMSClient, keyId: string) {
    super(kms, keyId, (message, details) => new AuditExportKeyError(message, details));
  }
}
