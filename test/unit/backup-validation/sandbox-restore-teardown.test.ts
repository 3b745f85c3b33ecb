import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackupReader } from '../../../lambdas/shared/backup/contracts';
import {
  SandboxRestoreTargets,
  type SupervisedProcesses,
} from '../../../lambdas/shared/adapters/restore/sandbox-restore-targets';
import { restoreTargetPrefix } from '../../../lambdas/shared/adapters/restore/target-names';

/** The supervisor's registry in memory: entries are "running" until stopped; each is a real `sleep` process it owns. */
function fakeSupervisor(
  names: string[],
): SupervisedProcesses & { stopped: string[]; children: ChildProcess[] } {
  const children = names.map(() => spawn('sleep', ['30'], { stdio: 'ignore' }));
  const running = new Map(
    names.map((n, i) => [n, { name: n, pid: children[i]!.pid!, logFile: `/tmp/${n}.log` }]),
  );
  const stopped: string[] = [];
  return {
    stopped,
    children,
    start: () => {
      throw new Error('not used');
    },
    stop: async (name) => {
      const entry = running.get(name);
      if (!entry) return;
      // As the real supervisor: a grace period for the process to end by itself, then SIGKILL.
      const child = children.find((c) => c.pid === entry.pid)!;
      if (child.exitCode === null && child.signalCode === null)
        await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 1000))]);
      child.kill('SIGKILL');
      running.delete(name);
      stopped.push(name);
    },
    isRunning: (name) => running.has(name),
    assertRunning: () => undefined,
    list: () => [...running.values()],
  };
}

const unusedBackups = {} as BackupReader;

describe('sandbox restore targets: teardown', () => {
  test('removes every process and data directory of the run (and only of that run), proves it, and is idempotent', async () => {
    const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-restore-'));
    const prefix = restoreTargetPrefix('bv-run-1');
    const other = restoreTargetPrefix('bv-run-2');
    for (const dir of [`${prefix}postgres`, `${prefix}redis`, `${other}postgres`, 'postgres-primary'])
      fs.mkdirSync(path.join(dataRoot, dir, 'base'), { recursive: true });
    const supervisor = fakeSupervisor([
      `${prefix}postgres`,
      `${prefix}redis`,
      `${other}redis`,
      'postgres-primary',
    ]);
    const targets = new SandboxRestoreTargets({
      supervisor,
      dataRoot,
      postgres: { bindir: '/nonexistent' },
      redisServer: '/nonexistent',
      backups: unusedBackups,
      database: 'tradepulse',
      operatorUser: 'dr_operator',
      applicationUser: 'tradepulse_app',
    });
    const first = await targets.teardown('bv-run-1');
    expect(first.alreadyDone).toBe(false);
    expect(first.leftBehind).toEqual({ processes: [], dataDirectories: [], objects: [] });
    expect(supervisor.stopped.sort()).toEqual([`${prefix}postgres`, `${prefix}redis`]);
    expect(fs.readdirSync(dataRoot).sort()).toEqual(['postgres-primary', `${other}postgres`]);
    const second = await targets.teardown('bv-run-1');
    expect(second).toEqual({
      removed: [],
      alreadyDone: true,
      leftBehind: { processes: [], dataDirectories: [], objects: [] },
    });
    // The run's disposable PostgreSQL got an immediate shutdown (SIGQUIT) before the supervisor's stop.
    const postgres = supervisor.children[0]!;
    if (postgres.exitCode === null && postgres.signalCode === null) await once(postgres, 'exit');
    expect(postgres.signalCode).toBe('SIGQUIT');
    for (const child of supervisor.children) child.kill('SIGKILL');
    fs.rmSync(dataRoot, { recursive: true, force: true });
  });

  test('run ids become safe, distinct name prefixes', () => {
    expect(restoreTargetPrefix('bv-20261127T053318-1da720')).toBe('restore-bv-20261127t053318-1da720-');
    const long = 'x'.repeat(80);
    expect(restoreTargetPrefix(long)).not.toBe(restoreTargetPrefix(`${long}y`));
    expect(restoreTargetPrefix('a/b c')).toBe('restore-a-b-c-');
  });
});
