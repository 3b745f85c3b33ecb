import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { portOf } from '../../sandbox/config';
import { PortInUseError } from '../../sandbox/ports';
import { sandboxStatus, startSandbox, stopSandbox } from '../../sandbox/sandbox';
import { testSandboxConfig } from './sandbox-fixture';

function pidsUnder(dir: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('sandbox lifecycle', () => {
  test('a port already in use is named in the error and nothing is started', async () => {
    const config = testSandboxConfig({
      rootDir: path.join(os.tmpdir(), `tp-sandbox-clash-${process.pid}`),
      portBase: 26900,
    });
    const blocker = net.createServer().listen(portOf(config, 'redisPrimary'), '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    try {
      const failure = startSandbox(config);
      await expect(failure).rejects.toThrow(PortInUseError);
      await expect(failure).rejects.toThrow(/port 26902 \(redisPrimary\).*portBase/s);
      expect(fs.existsSync(config.rootDir)).toBe(false);
    } finally {
      blocker.close();
    }
  });

  test('a server that dies during start-up fails the start with its log, and everything started is torn down', async () => {
    const config = testSandboxConfig({
      rootDir: path.join(os.tmpdir(), `tp-sandbox-dies-${process.pid}`),
      portBase: 26910,
    });
    const failure = startSandbox(config, undefined, { redisServer: '/bin/false' });
    await expect(failure).rejects.toThrow(/redis-primary exited during start-up/);
    expect(pidsUnder(config.rootDir)).toEqual([]);
    expect(fs.existsSync(config.rootDir)).toBe(false);
    expect((await sandboxStatus(config)).processes).toEqual([]);
  });

  test('down is idempotent on a sandbox that is not running', async () => {
    const config = testSandboxConfig({
      rootDir: path.join(os.tmpdir(), `tp-sandbox-down-${process.pid}`),
      portBase: 26920,
    });
    await stopSandbox(config);
    await stopSandbox(config);
    expect(fs.existsSync(config.rootDir)).toBe(false);
  });
});
