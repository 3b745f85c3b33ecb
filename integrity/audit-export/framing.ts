import {
  FrameDecryptor as EnvelopeDecryptor,
  FrameEncryptor as EnvelopeEncryptor,
  newEnvelopeHeader as newHeader,
  parseHeaderBytes as parseHeader,
  type EnvelopeHeader,
  type EnvelopeProfile,
  type FrameDecryptorOptions as EnvelopeDecryptorOptions,
} from '../../lambdas/shared/envelope/framing';
import { AuditExportIntegrityError } from './errors';

/**
 * The audit export's encrypted files: the shared framed AES-256-GCM envelope
 * (lambdas/shared/envelope/framing.ts) with the audit export's magic, header format and
 * integrity error.
 */
export {
  ALGORITHM,
  DEFAULT_FRAME_SIZE,
  TAG_LENGTH,
  EncryptionContextSchema,
  EnvelopeHeaderSchema,
  type EncryptionContext,
  type EnvelopeHeader,
  type ParsedHeader,
} from '../../lambdas/shared/envelope/framing';

export const FILE_MAGIC = Buffer.from('TPAEXP01', 'ascii');
export const AUDIT_EXPORT_FORMAT = 'tradepulse-audit-export';

export const AUDIT_EXPORT_ENVELOPE: EnvelopeProfile = {
  magic: FILE_MAGIC,
  format: AUDIT_EXPORT_FORMAT,
  description: 'an encrypted audit export',
  integrityError: (message, details) => new AuditExportIntegrityError(message, details),
};

/** The header for a new export file; `noncePrefix` is random unless given (tests). */
export function newEnvelopeHeader(input: Omit<Parameters<typeof newHeader>[0], 'format'>): EnvelopeHeader {
  return newHeader({ ...input, format: AUDIT_EXPORT_FORMAT });
}

export function parseHeaderBytes(bytes: Buffer, source: string): EnvelopeHeader {
  return parseHeader(bytes, source, AUDIT_EXPORT_ENVELOPE);
}

/** Plaintext in, the whole encrypted export file out. */
export class FrameEncryptor extends EnvelopeEncryptor {
  constructor(header: EnvelopeHeader, dataKey: Uint8Array) {
    super(header, dataKey, FILE_MAGIC);
  }
}

export type FrameDecryptorOptions = Omit<EnvelopeDecryptorOptions, 'profile'>;

/** The whole encrypted export file in, authenticated plaintext out (AuditExportIntegrityError on any fault). */
export class FrameDecryptor extends EnvelopeDecryptor {
  constructor(opts: FrameDecryptorOptions) {
    super({ ...opts, profile: AUDIT_EXPORT_ENVELOPE });
  }
}
