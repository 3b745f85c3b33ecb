import fs from 'node:fs';
import path from 'node:path';
import { onPath, runCommand } from './run-command';
import type { Progress } from './progress';

export class MissingPrerequisiteError extends Error {
  override name = 'MissingPrerequisiteError';
}

const isRoot = () => process.getuid?.() === 0;

let aptUpdated = false;
/** Installs Debian packages when we can (root + apt-get); otherwise says exactly what to install. */
async function aptInstall(packages: string[], why: string, progress: Progress): Promise<void> {
  const manual = `install them by hand: sudo apt-get install -y ${packages.join(' ')} (or your OS's equivalent)`;
  if (!isRoot())
    throw new MissingPrerequisiteError(`${why} is missing and the sandbox is not running as root; ${manual}`);
  if (!(await onPath('apt-get')))
    throw new MissingPrerequisiteError(`${why} is missing and this is not a Debian-like system; ${manual}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    progress.step('apt-get update');
    await runCommand('apt-get', ['update', '-q'], { env });
    aptUpdated = true;
  }
  progress.step(`apt-get install ${packages.join(' ')} (for ${why})`);
  await runCommand('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], { env });
  progress.done(`installed ${packages.join(' ')}`);
}

export interface PostgresInstall {
  bindir: string;
  majorVersion: number;
  /** OS user the servers run as when we are root (PostgreSQL refuses root). */
  runAs?: { uid: number; gid: number; name: string };
}

function findPostgresBindir(): { bindir: string; majorVersion: number } | undefined {
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return undefined;
  const versions = fs
    .readdirSync(base)
    .map(Number)
    .filter((v) => Number.isInteger(v) && fs.existsSync(path.join(base, String(v), 'bin', 'pg_basebackup')))
    .sort((a, b) => b - a);
  const [newest] = versions;
  return newest === undefined
    ? undefined
    : { bindir: path.join(base, String(newest), 'bin'), majorVersion: newest };
}

async function osUser(name: string): Promise<{ uid: number; gid: number; name: string } | undefined> {
  try {
    const uid = Number((await runCommand('id', ['-u', name])).trim());
    const gid = Number((await runCommand('id', ['-g', name])).trim());
    return { uid, gid, name };
  } catch {
    return undefined;
  }
}

export async function ensurePostgres(progress: Progress): Promise<PostgresInstall> {
  let found = findPostgresBindir();
  if (!found) {
    await aptInstall(
      ['postgresql', 'postgresql-contrib'],
      'PostgreSQL (server, pg_basebackup, amcheck)',
      progress,
    );
    found = findPostgresBindir();
    if (!found)
      throw new MissingPrerequisiteError(
        'PostgreSQL was installed but no /usr/lib/postgresql/*/bin was found',
      );
  }
  if (!isRoot()) return found;
  const runAs = (await osUser('postgres')) ?? (await osUser('nobody'));
  if (!runAs)
    throw new MissingPrerequisiteError(
      'running as root but neither a postgres nor a nobody user exists to run PostgreSQL as',
    );
  return { ...found, runAs };
}

export async function ensureRedis(progress: Progress): Promise<string> {
  if (!(await onPath('redis-server'))) await aptInstall(['redis-server'], 'Redis (redis-server)', progress);
  return 'redis-server';
}

export async function ensureJava(progress: Progress): Promise<string> {
  const javaHome = process.env.JAVA_HOME;
  if (javaHome && fs.existsSync(path.join(javaHome, 'bin', 'java')))
    return path.join(javaHome, 'bin', 'java');
  if (!(await onPath('java')))
    await aptInstall(['openjdk-17-jre-headless'], 'Java 17 (to run Kafka)', progress);
  const version = await runCommand('java', ['-version']);
  const major = Number(/version "(\d+)/.exec(version)?.[1]);
  if (!(major >= 17))
    throw new MissingPrerequisiteError(
      `Kafka needs Java 17 or newer; 'java -version' says: ${version.split('\n')[0]}`,
    );
  return 'java';
}

export async function ensureMaven(progress: Progress): Promise<string> {
  if (!(await onPath('mvn')))
    await aptInstall(['maven'], 'Maven (to fetch the Kafka jars from Maven Central)', progress);
  return 'mvn';
}

export async function ensurePython(progress: Progress): Promise<string> {
  if (!(await onPath('python3')))
    await aptInstall(['python3', 'python3-venv'], 'Python 3 (to run moto)', progress);
  return 'python3';
}

/** Writes `dir` through `build` into a temporary sibling, then renames it: a half-done install never counts. */
export async function installOnce(dir: string, build: (tmpDir: string) => Promise<void>): Promise<string> {
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  const tmp = `${dir}.partial-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    await build(tmp);
    fs.writeFileSync(path.join(tmp, '.complete'), new Date().toISOString());
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

export const MOTO_VERSION = '5.2.1';

/** moto in its own virtualenv under the cache, pinned, so the system Python is left alone. */
export async function ensureMoto(cacheDir: string, progress: Progress): Promise<string> {
  const python = await ensurePython(progress);
  const venv = path.join(cacheDir, `moto-${MOTO_VERSION}`);
  await installOnce(venv, async (tmp) => {
    progress.step(`installing moto[server]==${MOTO_VERSION} from PyPI into ${venv}`);
    try {
      await runCommand(python, ['-m', 'venv', tmp]);
    } catch (err) {
      throw new MissingPrerequisiteError(
        `could not create a Python virtualenv (${(err as Error).message.split('\n')[0]}); install python3-venv`,
      );
    }
    await runCommand(path.join(tmp, 'bin', 'pip'), [
      'install',
      '-q',
      '--disable-pip-version-check',
      `moto[server]==${MOTO_VERSION}`,
    ]);
    progress.done(`moto ${MOTO_VERSION} installed`);
  });
  // A venv's scripts carry its absolute path in their shebangs, so run moto through the interpreter.
  return path.join(venv, 'bin', 'python');
}
