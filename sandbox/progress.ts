/** Progress lines on stderr, so stdout stays clean for machine-readable output. */
export interface Progress {
  step(message: string): void;
  done(message: string): void;
  warn(message: string): void;
}

export function terminalProgress(
  prefix = 'sandbox',
  stream: NodeJS.WritableStream = process.stderr,
): Progress {
  const started = Date.now();
  const stamp = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  return {
    step: (m) => stream.write(`[${prefix} ${stamp()}] … ${m}\n`),
    done: (m) => stream.write(`[${prefix} ${stamp()}] ✓ ${m}\n`),
    warn: (m) => stream.write(`[${prefix} ${stamp()}] ! ${m}\n`),
  };
}

export const silentProgress: Progress = { step: () => {}, done: () => {}, warn: () => {} };
