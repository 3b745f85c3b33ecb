import { spawn, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ManagedProcess {
  name: string;
  pid: number;
  command: string;
  logFile: string;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this OS user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
}

export class ServerExitedError extends Error {
  override name = 'ServerExitedError';
}

/** Alive and not a zombie (orphans wait for PID 1 to reap them, which can take a while). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  }
}

/** Last lines of a log, for error messages that say why a server died. */
export function tailOf(logFile: string, lines = 15): string {
  try {
    return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts servers as process-group leaders with their output in a log file, and keeps
 * a registry file of their pids so that another process (`sandbox down`) can stop
 * exactly what was started, and nothing else.
 */
export class ProcessSupervisor {
  private readonly exits = new Map<string, { code: number | null; signal: NodeJS.Signals | null }>();

  constructor(
    private readonly registryFile: string,
    readonly logDir: string,
  ) {}

  list(): ManagedProcess[] {
    try {
      return JSON.parse(fs.readFileSync(this.registryFile, 'utf8')) as ManagedProcess[];
    } catch {
      return [];
    }
  }

  private save(processes: ManagedProcess[]): void {
    fs.mkdirSync(path.dirname(this.registryFile), { recursive: true });
    fs.writeFileSync(this.registryFile, JSON.stringify(processes, null, 2));
  }

  start(name: string, command: string, args: string[], options: StartOptions = {}): ManagedProcess {
    if (this.list().some((p) => p.name === name && isAlive(p.pid))) {
      throw new Error(`${name} is already running under this sandbox`);
    }
    fs.mkdirSync(this.logDir, { recursive: true });
    const logFile = path.join(this.logDir, `${name}.log`);
    const fd = fs.openSync(logFile, 'a');
    const spawnOptions: SpawnOptions = {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', fd, fd],
      detached: true,
    };
    if (options.uid !== undefined) spawnOptions.uid = options.uid;
    if (options.gid !== undefined) spawnOptions.gid = options.gid;
    const child = spawn(command, args, spawnOptions);
    fs.closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    child.unref();
    this.exits.delete(name);
    child.on('exit', (code, signal) => this.exits.set(name, { code, signal }));
    child.on('error', () => this.exits.set(name, { code: -1, signal: null }));
    const managed = { name, pid: child.pid, command: [command, ...args].join(' '), logFile };
    this.save([...this.list().filter((p) => p.name !== name), managed]);
    return managed;
  }

  /** Throws with the server's last log lines when it has already exited. */
  assertRunning(name: string): void {
    const exit = this.exits.get(name);
    const managed = this.list().find((p) => p.name === name);
    if (exit || (managed && !isAlive(managed.pid))) {
      const how = exit
        ? `code ${exit.code ?? '-'}${exit.signal ? `, signal ${exit.signal}` : ''}`
        : 'unknown status';
      const log = managed?.logFile ?? path.join(this.logDir, `${name}.log`);
      throw new ServerExitedError(`${name} exited during start-up (${how}); log ${log}:\n${tailOf(log)}`);
    }
  }

  isRunning(name: string): boolean {
    const managed = this.list().find((p) => p.name === name);
    return managed !== undefined && isAlive(managed.pid);
  }

  /** SIGTERM, then SIGKILL after the grace period; newest first. Idempotent. */
  async stop(name: string, graceMs = 10_000): Promise<void> {
    const managed = this.list().find((p) => p.name === name);
    if (!managed) return;
    if (isAlive(managed.pid)) {
      signalGroup(managed.pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (isAlive(managed.pid) && Date.now() < deadline) await sleep(100);
      if (isAlive(managed.pid)) signalGroup(managed.pid, 'SIGKILL');
      while (isAlive(managed.pid)) await sleep(50);
    }
    this.save(this.list().filter((p) => p.name !== name));
  }

  async stopAll(graceMs = 10_000): Promise<void> {
    await Promise.all(this.list().map((p) => this.stop(p.name, graceMs)));
  }
}

/** Polls `probe` until it resolves truthy, failing fast if the server dies. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  options: { timeoutMs: number; intervalMs?: number; alive?: () => void },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    options.alive?.();
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${options.timeoutMs / 1000}s waiting for ${what}${why}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}
