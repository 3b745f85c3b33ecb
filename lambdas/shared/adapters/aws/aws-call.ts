import { classifyError } from '../../errors';

/** Runs one SDK call; a throttle, timeout or network failure the SDK gave up on becomes TransientError (the ASL retries it). */
export async function awsCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw classifyError(err);
  }
}

/** The AWS error name (`ConditionalCheckFailedException`, `NotFound`, …) of a thrown SDK error. */
export function awsErrorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'name' in err
    ? String((err as { name: unknown }).name)
    : undefined;
}
