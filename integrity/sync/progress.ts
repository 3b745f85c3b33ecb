/**
 * Terminal progress for a sync: bytes, parts, rate and ETA, on stderr (stdout stays
 * machine-readable). On a terminal one line is redrawn in place; otherwise a line is
 * written every few seconds. Formatting is pure so it can be tested.
 */
export type SyncPhase = 'plan' | 'transfer' | 'verify' | 'publish' | 'done';

export interface ProgressState {
  phase: SyncPhase;
  /** Bytes of every file in the manifest. */
  totalBytes: number;
  /** Bytes sent to the target in this run (re-sends included). */
  sentBytes: number;
  /** Bytes already on the target that were kept (parts or whole files). */
  keptBytes: number;
  partsTotal: number;
  partsSent: number;
  partsKept: number;
  /** Parts sent again because S3 received them damaged. */
  partsResent: number;
  retries: number;
  verifyTotalBytes: number;
  verifiedBytes: number;
  /** When the transfer (and the verification) started, ms since the epoch. */
  startedAt: number;
  verifyStartedAt?: number;
  currentFile?: string;
}

export function emptyProgress(now: number): ProgressState {
  return {
    phase: 'plan',
    totalBytes: 0,
    sentBytes: 0,
    keptBytes: 0,
    partsTotal: 0,
    partsSent: 0,
    partsKept: 0,
    partsResent: 0,
    retries: 0,
    verifyTotalBytes: 0,
    verifiedBytes: 0,
    startedAt: now,
  };
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Seconds → `42s`, `3m07s`, `2h05m`; `--` when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export interface Rate {
  bytesPerSecond: number | undefined;
  etaSeconds: number | undefined;
}

/** Average rate since `since` and the time left for `remaining` bytes at that rate. */
export function rateAndEta(doneBytes: number, remaining: number, since: number, now: number): Rate {
  const elapsed = (now - since) / 1000;
  if (elapsed <= 0 || doneBytes <= 0)
    return { bytesPerSecond: undefined, etaSeconds: remaining === 0 ? 0 : undefined };
  const bytesPerSecond = doneBytes / elapsed;
  return { bytesPerSecond, etaSeconds: remaining / bytesPerSecond };
}

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '100.0%');
const rateText = (bps: number | undefined) =>
  bps === undefined ? '-- MiB/s' : `${(bps / 1024 / 1024).toFixed(1)} MiB/s`;

export function formatProgress(state: ProgressState, now: number): string {
  if (state.phase === 'verify') {
    const { bytesPerSecond, etaSeconds } = rateAndEta(
      state.verifiedBytes,
      state.verifyTotalBytes - state.verifiedBytes,
      state.verifyStartedAt ?? now,
      now,
    );
    return `verify   ${formatBytes(state.verifiedBytes)}/${formatBytes(state.verifyTotalBytes)} (${pct(state.verifiedBytes, state.verifyTotalBytes)})  ${rateText(bytesPerSecond)}  ETA ${formatDuration(etaSeconds)}`;
  }
  const done = state.sentBytes + state.keptBytes;
  const toSend = Math.max(0, state.totalBytes - state.keptBytes);
  // Re-sent bytes count in sentBytes but not towards completion: cap at what there is to send.
  const sentUseful = Math.min(state.sentBytes, toSend);
  const { bytesPerSecond, etaSeconds } = rateAndEta(
    state.sentBytes,
    toSend - sentUseful,
    state.startedAt,
    now,
  );
  const parts = `parts ${state.partsSent + state.partsKept}/${state.partsTotal}`;
  const extras = [
    state.partsKept ? `${state.partsKept} kept` : '',
    state.partsResent ? `${state.partsResent} re-sent` : '',
    state.retries ? `${state.retries} retries` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${state.phase.padEnd(8)} ${formatBytes(Math.min(done, state.totalBytes))}/${formatBytes(state.totalBytes)} (${pct(Math.min(done, state.totalBytes), state.totalBytes)})  ${parts}${extras ? ` (${extras})` : ''}  ${rateText(bytesPerSecond)}  ETA ${formatDuration(etaSeconds)}`;
}

export interface ProgressSink {
  update(change: (state: ProgressState) => void): void;
  /** A one-off message (a retry, a corrupted part, a decision), on its own line. */
  note(message: string): void;
  /** Draws the final state and stops the timer. */
  finish(): void;
  readonly state: ProgressState;
}

export interface TerminalProgressOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** @default 250 ms on a terminal, 5 s otherwise */
  intervalMs?: number;
  prefix?: string;
  now?: () => number;
}

export function terminalSyncProgress(opts: TerminalProgressOptions = {}): ProgressSink {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? Date.now;
  const tty = Boolean(stream.isTTY);
  const prefix = opts.prefix ?? 'data-sync';
  const state = emptyProgress(now());
  let drawn = false;
  const line = () => `[${prefix}] ${formatProgress(state, now())}`;
  const draw = () => {
    if (state.phase === 'plan') return;
    if (tty) stream.write(`\r\x1b[K${line()}`);
    else stream.write(`${line()}\n`);
    drawn = true;
  };
  const timer = setInterval(draw, opts.intervalMs ?? (tty ? 250 : 5000));
  timer.unref();
  return {
    state,
    update: (change) => change(state),
    note: (message) => {
      if (tty && drawn) stream.write('\r\x1b[K');
      stream.write(`[${prefix}] ${message}\n`);
      if (tty && drawn) draw();
    },
    finish: () => {
      clearInterval(timer);
      draw();
      if (tty && drawn) stream.write('\n');
    },
  };
}

/** Keeps the figures, prints nothing (tests, library callers without a terminal). */
export function silentSyncProgress(now: () => number = Date.now): ProgressSink {
  const state = emptyProgress(now());
  return { state, update: (change) => change(state), note: () => {}, finish: () => {} };
}
