import { setTimeout as sleep } from 'node:timers/promises';
import { classifyError, TransientError } from '../../lambdas/shared/errors';

/**
 * Retries with exponential backoff and full jitter (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"): the n-th retry waits a uniformly random time in
 * [0, min(cap, base × 2ⁿ)). Only failures that are safe to repeat are retried: what the
 * project's classifyError maps to TransientError, S3's own "slow down"/5xx replies, and
 * whatever the caller adds (a corrupted part is re-sent the same way).
 */
export interface RetryPolicy {
  /** Attempts in all, the first one included. @default 6 */
  readonly maxAttempts: number;
  /** @default 200 */
  readonly baseDelayMs: number;
  /** @default 10_000 */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 10_000 };

/** The exponential ceiling before jitter for retry number `retry` (0 = the first retry). */
export function backoffCeilingMs(
  retry: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
): number {
  if (!Number.isInteger(retry) || retry < 0) throw new RangeError('retry must be a non-negative integer');
  // 2^retry overflows to Infinity for huge retry counts; min() then yields the cap.
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
}

/** Full jitter: uniform in [0, ceiling). `random` returns [0, 1) like Math.random. */
export function fullJitterDelayMs(
  retry: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const r = random();
  if (!(r >= 0 && r < 1)) throw new RangeError('random() must return a number in [0, 1)');
  return Math.floor(r * backoffCeilingMs(retry, policy));
}

/** S3 replies that mean "try again" beyond the project's shared list. */
const S3_RETRYABLE = new Set(['SlowDown', 'ServiceUnavailable', 'InternalError', 'RequestTimeout']);

/**
 * TransientError when the failure is safe to retry (network, throttling, S3 5xx),
 * otherwise the failure itself, unchanged.
 */
export function classifySyncError(err: unknown): unknown {
  const classified = classifyError(err);
  if (classified instanceof TransientError) return classified;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  if ((e?.name && S3_RETRYABLE.has(e.name)) || (status !== undefined && status >= 500 && status <= 599))
    return new TransientError(`${e.name ?? 'Error'} (HTTP ${status ?? '?'}): ${e.message ?? String(err)}`);
  return classified;
}

export interface RetryEvent {
  /** 1-based attempt that failed. */
  attempt: number;
  delayMs: number;
  error: unknown;
  what: string;
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  /** Extra failures to retry (besides transient ones), e.g. a part whose checksum did not match. */
  retryAlso?: (err: unknown) => boolean;
  onRetry?: (event: RetryEvent) => void;
  random?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

/** Runs `fn` until it succeeds, a non-retryable failure occurs, or the attempts run out. */
export async function withRetry<T>(
  what: string,
  fn: (attempt: number) => Promise<T>,
  opts: RetryOptions = {},
): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...opts.policy };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1)
    throw new RangeError('maxAttempts must be a positive integer');
  const wait = opts.sleep ?? ((ms: number) => sleep(ms));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const classified = classifySyncError(err);
      const retryable = classified instanceof TransientError || (opts.retryAlso?.(err) ?? false);
      if (!retryable) throw classified;
      if (attempt >= policy.maxAttempts) {
        if (classified instanceof TransientError)
          throw new TransientError(`${what}: gave up after ${attempt} attempts: ${classified.message}`, {
            attempts: attempt,
          });
        throw err;
      }
      const delayMs = fullJitterDelayMs(attempt - 1, policy, opts.random);
      opts.onRetry?.({ attempt, delayMs, error: err, what });
      await wait(delayMs);
    }
  }
}
