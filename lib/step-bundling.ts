import path from 'node:path';
import type { BuildOptions } from 'esbuild';
import {
  LogLevel as EsbuildLogLevel,
  OutputFormat,
  type BundlingOptions,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { DATA_STORE_DRIVERS } from './driver-layer';

/**
 * How every step's Lambda bundle is built — one place, read by the DrStepFunction construct
 * and by `npm run bench:synth`, which rebuilds each bundle with the same esbuild options to
 * measure it (test/infrastructure proves the bench's output is byte-identical to the asset).
 */

/** esbuild's target for the Lambda runtime (Node.js 22). */
export const STEP_ESBUILD_TARGET = 'node22';

/**
 * ESM bundles of CommonJS dependencies (pg, kafkajs, ioredis) still call `require` for Node
 * built-ins and read `__dirname` on some error paths; give them both.
 */
export const ESM_REQUIRE_BANNER = [
  "import { createRequire as __drCreateRequire } from 'node:module';",
  "import { fileURLToPath as __drFileURLToPath } from 'node:url';",
  "import { dirname as __drDirname } from 'node:path';",
  'const require = __drCreateRequire(import.meta.url);',
  'const __filename = __drFileURLToPath(import.meta.url);',
  'const __dirname = __drDirname(__filename);',
].join(' ');

/** Modules the Lambda runtime provides (the AWS SDK v3), unless the deployment bundles them. */
export const runtimeProvidedModules = (bundleAwsSdk: boolean): string[] =>
  bundleAwsSdk ? [] : ['@aws-sdk/*'];

/** The NodejsFunction bundling of a step, without the command hooks (those only copy files). */
export function stepBundlingOptions(bundleAwsSdk: boolean) {
  return {
    forceDockerBundling: false,
    format: OutputFormat.ESM,
    target: STEP_ESBUILD_TARGET,
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    logLevel: EsbuildLogLevel.WARNING,
    // The drivers come from the stack's driver layer (lib/driver-layer.ts).
    externalModules: [...runtimeProvidedModules(bundleAwsSdk), ...DATA_STORE_DRIVERS],
  } satisfies BundlingOptions;
}

/**
 * The esbuild build options NodejsFunction's local bundling passes on its command line for
 * `bundling` (aws-cdk-lib/aws-lambda-nodejs `Bundling.buildEsbuildArgs`, for the options
 * stepBundlingOptions sets): `esbuild --bundle <entry> --target --platform=node --format
 * --outfile=<outdir>/index.mjs --minify --sourcemap --sources-content=false --external:…
 * --log-level --banner:js --main-fields`, run in the project root.
 */
export function esbuildOptionsFor(
  bundling: ReturnType<typeof stepBundlingOptions>,
  entry: string,
  outdir: string,
  projectRoot: string,
): BuildOptions & { entryPoints: string[]; outfile: string } {
  return {
    entryPoints: [entry],
    bundle: true,
    target: bundling.target,
    platform: 'node',
    format: bundling.format === OutputFormat.ESM ? 'esm' : 'cjs',
    outfile: path.join(outdir, bundling.format === OutputFormat.ESM ? 'index.mjs' : 'index.js'),
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    sourcesContent: bundling.sourcesContent,
    external: [...bundling.externalModules],
    logLevel: bundling.logLevel,
    banner: { js: bundling.banner },
    mainFields: [...bundling.mainFields],
    absWorkingDir: projectRoot,
  };
}
