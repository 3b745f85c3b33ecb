import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/dr-step-function';

/** Every .ts file under a folder of the repository. */
function sources(dir: string): string[] {
  return fs.readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(rel);
    return entry.name.endsWith('.ts') ? [rel] : [];
  });
}

describe('what step bundles import', () => {
  test('zod is imported as a namespace: the named `z` export drags all of zod, every locale included (~440 KB), into a bundle', () => {
    const offenders = sources('lambdas').filter((file) =>
      /import\s*\{\s*z\s*[,}][^;]*from\s*'zod'/.test(fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
