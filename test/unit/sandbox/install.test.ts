import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import {
  MissingPrerequisiteError,
  ensureJava,
  ensureMoto,
  ensureRedis,
  installOnce,
} from '../../../sandbox/install';
import { silentProgress } from '../../../sandbox/progress';

describe('sandbox prerequisites', () => {
  const savedPath = process.env.PATH;
  const savedJavaHome = process.env.JAVA_HOME;
  let emptyBin: string;

  beforeEach(() => {
    // A machine without java, python3, redis-server or apt-get, and not root.
    emptyBin = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-empty-bin-'));
    fs.symlinkSync('/bin/sh', path.join(emptyBin, 'sh'));
    process.env.PATH = emptyBin;
    delete process.env.JAVA_HOME;
    jest.spyOn(process, 'getuid').mockReturnValue(1000);
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    if (savedJavaHome !== undefined) process.env.JAVA_HOME = savedJavaHome;
    jest.restoreAllMocks();
  });

  test('a missing Java says exactly what to install', async () => {
    const failure = ensureJava(silentProgress);
    await expect(failure).rejects.toThrow(MissingPrerequisiteError);
    await expect(failure).rejects.toThrow(
      /Java 17 .* is missing and the sandbox is not running as root; install them by hand: sudo apt-get install -y openjdk-17-jre-headless/,
    );
  });

  test('a missing Python says exactly what to install, and leaves no half-made virtualenv', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-cache-'));
    await expect(ensureMoto(cache, silentProgress)).rejects.toThrow(
      /Python 3 .* install them by hand: sudo apt-get install -y python3 python3-venv/,
    );
    expect(fs.readdirSync(cache)).toEqual([]);
  });

  test('a missing Redis says exactly what to install', async () => {
    await expect(ensureRedis(silentProgress)).rejects.toThrow(/redis-server/);
  });

  test('an install that fails half-way leaves nothing behind, and a finished one is not redone', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tp-once-')), 'thing');
    await expect(
      installOnce(dir, async (tmp) => {
        fs.writeFileSync(path.join(tmp, 'half'), 'x');
        throw new Error('download interrupted');
      }),
    ).rejects.toThrow('download interrupted');
    expect(fs.existsSync(dir)).toBe(false);
    expect(fs.readdirSync(path.dirname(dir))).toEqual([]);
    let builds = 0;
    await installOnce(
      dir,
      async (tmp) => void ((builds += 1), fs.writeFileSync(path.join(tmp, 'done'), 'x')),
    );
    await installOnce(dir, async () => void (builds += 1));
    expect(builds).toBe(1);
    expect(fs.existsSync(path.join(dir, 'done'))).toBe(true);
  });
});
