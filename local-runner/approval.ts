/** A decision on a `.waitForTaskToken` task, as SendTaskSuccess / SendTaskFailure would carry it. */
export type TaskAnswer =
  | { outcome: 'success'; output: Record<string, unknown> }
  | { outcome: 'failure'; error: string; cause: string };

/** Raised the way Step Functions reports the errors, so the ASL's Catch matches them locally. */
export class TaskFailedByCallbackError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/**
 * The local stand-in for Step Functions' task-token service: the workflow waits on a token;
 * an approver (the terminal prompt, a flag, a test) answers it with success or failure, or
 * sends heartbeats. No heartbeat within HeartbeatSeconds fails it with States.HeartbeatTimeout.
 */
export class TaskTokenBroker {
  private readonly waiting = new Map<
    string,
    { settle: (answer: TaskAnswer) => void; heartbeat: () => void }
  >();
  private readonly listeners: ((token: string, payload: unknown) => void)[] = [];

  /** Called when a task starts waiting (the drill prompts; tests answer). */
  onWaiting(listener: (token: string, payload: unknown) => void): void {
    this.listeners.push(listener);
  }

  wait(token: string, payload: unknown, heartbeatSeconds?: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        if (timer) clearTimeout(timer);
        if (heartbeatSeconds) {
          timer = setTimeout(
            () =>
              settle({
                outcome: 'failure',
                error: 'States.HeartbeatTimeout',
                cause: `no heartbeat for ${heartbeatSeconds}s`,
              }),
            heartbeatSeconds * 1000,
          );
          timer.unref();
        }
      };
      const settle = (answer: TaskAnswer) => {
        if (timer) clearTimeout(timer);
        this.waiting.delete(token);
        if (answer.outcome === 'success') resolve(answer.output);
        else reject(new TaskFailedByCallbackError(answer.error, answer.cause));
      };
      this.waiting.set(token, { settle, heartbeat: arm });
      arm();
      for (const listener of this.listeners) listener(token, payload);
    });
  }

  private entry(token: string) {
    const entry = this.waiting.get(token);
    if (!entry)
      throw new Error(`task token ${token} is not waiting (already answered, timed out, or unknown)`);
    return entry;
  }

  sendTaskSuccess(token: string, output: Record<string, unknown>): void {
    this.entry(token).settle({ outcome: 'success', output });
  }

  sendTaskFailure(token: string, error: string, cause: string): void {
    this.entry(token).settle({ outcome: 'failure', error, cause });
  }

  sendTaskHeartbeat(token: string): void {
    this.entry(token).heartbeat();
  }

  get pendingTokens(): string[] {
    return [...this.waiting.keys()];
  }
}
