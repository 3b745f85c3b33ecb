import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Code, LayerVersion, type Runtime } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/**
 * The data-store drivers the steps use. They are left out of every step's bundle
 * (lib/step-bundling.ts marks them external) and shipped once, unchanged from npm, in a
 * Lambda layer at `nodejs/node_modules/`, where Node.js 22 on Lambda resolves both
 * `require` and ESM `import` of a bare package name. kafkajs alone is 264 KB minified, more
 * than a step's 300 KB budget leaves after zod and Powertools; shipping it once keeps every
 * function small without splitting steps per store.
 */
export const DATA_STORE_DRIVERS = ['kafkajs', 'pg', 'ioredis'] as const;

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const readPackage = (dir: string): PackageJson =>
  JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;

/** Where Node would find `name` from a package installed at `fromDir` (nested node_modules first). */
function resolvePackageDir(name: string, fromDir: string, nodeModules: string): string {
  for (let dir = fromDir; dir.startsWith(nodeModules); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === nodeModules) break;
  }
  const hoisted = path.join(nodeModules, name);
  if (fs.existsSync(path.join(hoisted, 'package.json'))) return hoisted;
  throw new Error(`driver layer: package '${name}' is not installed in ${nodeModules}: run \`npm ci\``);
}

/**
 * The installed packages the drivers need at run time (their production dependencies,
 * transitively), by folder under node_modules. Peer dependencies (pg's optional pg-native) are
 * not installed and not shipped, as in the bundles.
 */
export function driverPackages(projectRoot: string): Map<string, PackageJson> {
  const nodeModules = path.join(projectRoot, 'node_modules');
  const found = new Map<string, PackageJson>();
  const visit = (dir: string) => {
    const relative = path.relative(nodeModules, dir);
    if (found.has(relative)) return;
    const pkg = readPackage(dir);
    found.set(relative, pkg);
    const deps = { ...pkg.dependencies, ...pkg.optionalDependencies };
    for (const dep of Object.keys(deps)) {
      try {
        visit(resolvePackageDir(dep, dir, nodeModules));
      } catch (err) {
        if (!(pkg.optionalDependencies && dep in pkg.optionalDependencies)) throw err;
      }
    }
  };
  for (const driver of DATA_STORE_DRIVERS) visit(resolvePackageDir(driver, nodeModules, nodeModules));
  return found;
}

/**
 * Stages the layer's content (`nodejs/node_modules/<package>` for every driver package) in
 * node_modules/.cache, keyed by the packages' names and versions, and returns the directory.
 */
export function stageDriverLayer(
  projectRoot: string,
  packages: Map<string, PackageJson> = driverPackages(projectRoot),
): string {
  const key = createHash('sha256')
    .update(
      [...packages]
        .map(([dir, pkg]) => `${dir}@${pkg.version}`)
        .sort()
        .join('\n'),
    )
    .digest('hex')
    .slice(0, 16);
  const staged = path.join(projectRoot, 'node_modules', '.cache', 'tradepulse-dr', `driver-layer-${key}`);
  if (fs.existsSync(path.join(staged, 'complete'))) return path.join(staged, 'content');
  const content = path.join(staged, 'content');
  fs.rmSync(staged, { recursive: true, force: true });
  for (const dir of packages.keys()) {
    // Nested node_modules are copied as packages of their own (they are in `packages` too).
    fs.cpSync(
      path.join(projectRoot, 'node_modules', dir),
      path.join(content, 'nodejs', 'node_modules', dir),
      {
        recursive: true,
        filter: (source) =>
          !path.relative(path.join(projectRoot, 'node_modules', dir), source).includes('node_modules'),
      },
    );
  }
  fs.writeFileSync(path.join(staged, 'complete'), '');
  return content;
}

export interface DataStoreDriverLayerProps {
  readonly runtime: Runtime;
  /** Where node_modules holds the drivers (the repository root). */
  readonly projectRoot: string;
}

/** The drivers' layer, one per stack, attached to every step function. */
export class DataStoreDriverLayer extends Construct {
  readonly layer: LayerVersion;

  constructor(scope: Construct, id: string, props: DataStoreDriverLayerProps) {
    super(scope, id);
    const packages = driverPackages(props.projectRoot);
    const versions = DATA_STORE_DRIVERS.map((d) => `${d} ${packages.get(d)!.version}`).join(', ');
    this.layer = new LayerVersion(this, 'Layer', {
      code: Code.fromAsset(stageDriverLayer(props.projectRoot, packages)),
      compatibleRuntimes: [props.runtime],
      compatibleArchitectures: [Architecture.ARM_64],
      description: `tradepulse-dr data-store drivers: ${versions}`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
