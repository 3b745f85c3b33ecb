/** What a step did: `changed` the world, found the goal already held (`no-op`), or only reported (`dry-run`). */
export type StepAction = 'changed' | 'no-op' | 'dry-run' | 'observed';

/** Every step returns this: what it saw, what it changed, and how long it took. */
export interface StepEvidence {
  step: string;
  action: StepAction;
  /** The state read before acting (and after, where the step verifies). */
  observed: Record<string, unknown>;
  /** One sentence per change made, or that would have been made in a dry run. */
  changes: string[];
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

export interface StepResult<T = Record<string, unknown>> {
  evidence: StepEvidence;
  result: T;
}
