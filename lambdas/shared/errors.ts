/**
 * Errors whose `name` is what the state machines' Retry/Catch `ErrorEquals` match.
 * A Lambda reports `errorType` = the thrown error's name; the local runner matches the
 * same name, so the ASL is the same in both runtimes.
 */
export abstract class DrError extends Error {
  /** Extra facts for the run record and the evidence report. */
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.details = details;
  }
}

/** Malformed input, unknown alarm or region, missing config: rejected before any lock or mutation. */
export class InvalidInputError extends DrError {
  override name = 'InvalidInputError';
}
/** Another DR run holds the application's single-flight lock. */
export class LockHeldError extends DrError {
  override name = 'LockHeldError';
}
/** A network blip, timeout or throttle: the ASL retries these with backoff. */
export class TransientError extends DrError {
  override name = 'TransientError';
}
/** The condition a step waits for does not hold yet (replay catching up, DNS change pending). */
export class NotReadyYetError extends DrError {
  override name = 'NotReadyYetError';
}
/** The target region cannot take over: a store is down or not replicating. */
export class TargetUnhealthyError extends DrError {
  override name = 'TargetUnhealthyError';
}
/** The old primary is reachable but could not be fenced: promoting now risks split brain. */
export class FencingFailedError extends DrError {
  override name = 'FencingFailedError';
}
/** Promotion did not leave a writable primary. */
export class PromotionFailedError extends DrError {
  override name = 'PromotionFailedError';
}
/** Verification found a discrepancy: SEV-1, trading must not resume. */
export class VerificationFailedError extends DrError {
  override name = 'VerificationFailedError';
}
/** The world changed between approval and resumption. */
export class ResumeRecheckFailedError extends DrError {
  override name = 'ResumeRecheckFailedError';
}
/** Failback requested toward a region that is already primary: no failover to return from. */
export class NoFailoverToReturnFromError extends DrError {
  override name = 'NoFailoverToReturnFromError';
}
/** Planned switchover: the standby had not replayed the fenced primary's final LSN, so promoting it could lose data. */
export class FinalLsnMismatchError extends DrError {
  override name = 'FinalLsnMismatchError';
}
/** Failback warm-up: replication broke or fell behind while the synthetic load ran. */
export class WarmUpFailedError extends DrError {
  override name = 'WarmUpFailedError';
}

/** A disposable restore target (backup validation) could not be restored or did not start. */
export class RestoreFailedError extends DrError {
  override name = 'RestoreFailedError';
}

/** The old primary could not be made a replica of the new one (failback rebuild); `details` says how far it got. */
export class RebuildFailedError extends DrError {
  override name = 'RebuildFailedError';
}

/** Error names as they appear in the ASL. */
export const ERROR_NAMES = {
  invalidInput: 'InvalidInputError',
  lockHeld: 'LockHeldError',
  transient: 'TransientError',
  notReadyYet: 'NotReadyYetError',
  targetUnhealthy: 'TargetUnhealthyError',
  fencingFailed: 'FencingFailedError',
  promotionFailed: 'PromotionFailedError',
  verificationFailed: 'VerificationFailedError',
  resumeRecheckFailed: 'ResumeRecheckFailedError',
  restoreFailed: 'RestoreFailedError',
  noFailoverToReturnFrom: 'NoFailoverToReturnFromError',
  finalLsnMismatch: 'FinalLsnMismatchError',
  warmUpFailed: 'WarmUpFailedError',
  rebuildFailed: 'RebuildFailedError',
} as const;

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  '57P01',
  '57P03',
  '08006',
  '08001',
]);
const TRANSIENT_AWS = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'PriorRequestNotComplete',
]);

/** Maps a low-level failure to TransientError when retrying it is safe; anything else passes through. */
export function classifyError(err: unknown): unknown {
  if (err instanceof DrError) return err;
  const e = err as { code?: string; name?: string; message?: string; $retryable?: unknown };
  if ((e.code && TRANSIENT_CODES.has(e.code)) || (e.name && TRANSIENT_AWS.has(e.name)) || e.$retryable) {
    return new TransientError(
      `${e.name ?? 'Error'}${e.code ? ` ${e.code}` : ''}: ${e.message ?? String(err)}`,
    );
  }
  return err;
}
