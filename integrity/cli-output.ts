import fs from 'node:fs';
import path from 'node:path';

/** Bad input to an operator CLI: exit 2 with this message. */
export class CliInputError extends Error {
  override name = 'CliInputError';
}

/** Writes next to the target under a temporary name and renames when complete: never a partial file. */
export function writeAtomically(file: string, content: string): void {
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new CliInputError(`cannot write ${file}: directory ${dir} does not exist`);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temp, content);
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw new CliInputError(`cannot write ${file}: ${(err as Error).message}`);
  }
}
