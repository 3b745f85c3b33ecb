import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls `probe` until it reports `done` or the time is up; then throws what `onTimeout`
 * builds from the last observation.
 */
export async function pollUntil<T, O>(
  probe: () => Promise<{ done: T } | { observed: O }>,
  opts: { timeoutMs: number; intervalMs: number; onTimeout: (lastObserved: O, waitedMs: number) => Error },
): Promise<{ value: T; waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    const outcome = await probe();
    const waitedMs = Date.now() - started;
    if ('done' in outcome) return { value: outcome.done, waitedMs };
    if (waitedMs >= opts.timeoutMs) throw opts.onTimeout(outcome.observed, waitedMs);
    await sleep(Math.min(opts.intervalMs, Math.max(0, opts.timeoutMs - waitedMs)));
  }
}
