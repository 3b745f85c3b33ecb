import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import * as esbuild from 'esbuild';
import { STEP_FUNCTIONS, handlerEntry, type StepFunctionName } from '../../lambdas/registry';
import { DR_METRICS, DR_METRICS_NAMESPACE } from '../../lambdas/shared/metrics';
import { ExecutionInputSchema } from '../../lambdas/shared/run';
import { executeStep } from '../../lambdas/shared/step';
import { validateInputStep } from '../../lambdas/validate-input/logic';
import { acquireLockStep } from '../../lambdas/acquire-lock/logic';
import { startBackupValidationStep } from '../../lambdas/start-backup-validation/logic';
import { topologyTextFromEnvironment } from '../../lambdas/shared/aws-dependencies';
import { FakeClock, FakeLockStore } from '../unit/steps/fakes';
import { functionArnVariable, summarizeAsl } from '../../lib/asl';
import type { DeploymentConfigInput } from '../../lib/deployment-config';
import { DATA_STORE_DRIVERS } from '../../lib/driver-layer';
import { PROJECT_ROOT } from '../../lib/dr-step-function';
import { NETWORK_CAPABILITIES, STEP_CAPABILITIES, type StepCapability } from '../../lib/step-capabilities';
import { esbuildOptionsFor, stepBundlingOptions } from '../../lib/step-bundling';
import { DR_WORKFLOWS, functionTimeoutSeconds, loadWorkflows } from '../../lib/workflows';
import { applyInputTransformer, matchesEventPattern } from './eventbridge';
import { staticStabilityViolations } from './static-stability';
import {
  identityPolicyStatements,
  newAssemblyDir,
  removeAssemblyDir,
  roleOfPolicy,
  sampleConfigInput,
  synthesizeApp,
  type SynthesizedApp,
} from './synthesize';

const ASL_FILE = path.join(PROJECT_ROOT, 'state-machines', 'failover.asl.json');
/** What the stack deploys: the failover and every complete optional workflow (lib/workflows.ts). */
const WORKFLOWS = loadWorkflows(PROJECT_ROOT, DR_WORKFLOWS, (s) => STEP_CAPABILITIES[s] !== undefined);
/** Every step a deployed workflow invokes: one function each. */
const STEP_NAMES = (Object.keys(STEP_FUNCTIONS) as StepFunctionName[]).filter((n) =>
  WORKFLOWS.some((w) => w.steps.includes(n)),
);
/** The steps of the failover workflow. */
const FAILOVER_STEPS = WORKFLOWS.find((w) => w.spec.id === 'Failover')!.steps;
const capabilitiesOf = (step: StepFunctionName) => STEP_CAPABILITIES[step]!;
const REGIONS = ['us-east-1', 'us-west-2'] as const;
const DR_REGION = 'us-west-2';

/** CloudFormation JSON, read loosely: the assertions below say what must be there. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
type Resources = Record<string, { Type: string; Properties: Record<string, Loose>; DeletionPolicy?: string }>;
const resourcesOf = (template: Template) => template.toJSON().Resources as Resources;
const ofType = (template: Template, type: string) =>
  Object.entries(resourcesOf(template)).filter(([, r]) => r.Type === type);
/** The logical id CDK gave a step's resource (`<Step><Child>…`), e.g. the function of AcquireLock. */
const stepResourceId = (template: Template, step: StepFunctionName, type: string) => {
  const found = ofType(template, type).filter(([id]) =>
    new RegExp(`^${step}(Function|Role|LogGroup)`).test(id),
  );
  if (found.length !== 1) throw new Error(`expected one ${type} for ${step}, found ${found.length}`);
  return found[0]![0];
};
const statementsOfStep = (template: Template, step: StepFunctionName) => {
  const role = stepResourceId(template, step, 'AWS::IAM::Role');
  return identityPolicyStatements(template).filter(
    (s) => s.resourceType === 'AWS::IAM::Policy' && roleOfPolicy(template, s.resourceId) === role,
  );
};
const rolesHolding = (template: Template, action: string) =>
  [
    ...new Set(
      identityPolicyStatements(template)
        .filter((s) => s.effect === 'Allow' && s.actions.includes(action))
        .map((s) =>
          s.resourceType === 'AWS::IAM::Policy' ? roleOfPolicy(template, s.resourceId) : s.resourceId,
        ),
    ),
  ].sort();
const isDriver = (module: string) => (DATA_STORE_DRIVERS as readonly string[]).includes(module);
const stepRoles = (template: Template, steps: StepFunctionName[]) =>
  steps.map((s) => stepResourceId(template, s, 'AWS::IAM::Role')).sort();

const outdir = newAssemblyDir();
let synthesized: SynthesizedApp;
beforeAll(() => {
  synthesized = synthesizeApp(sampleConfigInput(), outdir);
});
afterAll(() => removeAssemblyDir(outdir));

describe('step functions (DrStepFunction)', () => {
  test.each(REGIONS)(
    '%s: one Lambda per STEP_FUNCTIONS entry, nodejs22.x on arm64, ESM handler, active tracing',
    (region) => {
      const template = synthesized.template(region);
      template.resourceCountIs('AWS::Lambda::Function', STEP_NAMES.length);
      for (const step of STEP_NAMES) {
        const fn = resourcesOf(template)[stepResourceId(template, step, 'AWS::Lambda::Function')]!.Properties;
        expect({
          step,
          runtime: fn.Runtime,
          architectures: fn.Architectures,
          handler: fn.Handler,
          tracing: fn.TracingConfig,
        }).toEqual({
          step,
          runtime: 'nodejs22.x',
          architectures: ['arm64'],
          handler: 'index.handler',
          tracing: { Mode: 'Active' },
        });
        expect(fn.Description).toContain(handlerEntry(step));
      }
    },
  );

  test('each function logs to its own log group with the configured retention, kept on stack deletion', () => {
    const template = synthesized.template(DR_REGION);
    for (const step of STEP_NAMES) {
      const fn = resourcesOf(template)[stepResourceId(template, step, 'AWS::Lambda::Function')]!.Properties;
      const logGroupId = stepResourceId(template, step, 'AWS::Logs::LogGroup');
      expect(fn.LoggingConfig).toEqual({ LogGroup: { Ref: logGroupId } });
      const logGroup = resourcesOf(template)[logGroupId]!;
      expect([step, logGroup.Properties.RetentionInDays, logGroup.DeletionPolicy]).toEqual([
        step,
        synthesized.config.logRetentionDays,
        'Retain',
      ]);
    }
  });

  test('each function gets the validated topology as DR_TOPOLOGY and the Powertools environment', () => {
    for (const region of REGIONS) {
      const template = synthesized.template(region);
      for (const step of STEP_NAMES) {
        const vars =
          resourcesOf(template)[stepResourceId(template, step, 'AWS::Lambda::Function')]!.Properties
            .Environment.Variables;
        expect(JSON.parse(vars.DR_TOPOLOGY)).toEqual(synthesized.config.topology);
        expect(vars).toMatchObject({
          POWERTOOLS_SERVICE_NAME: 'tradepulse-dr',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        });
        expect(Object.keys(vars).some((k) => k.startsWith('AWS_'))).toBe(false);
      }
    }
  });

  test('steps that reach PostgreSQL, Kafka or Redis run in the region’s subnets and security groups; the others outside the VPC', () => {
    for (const region of REGIONS) {
      const template = synthesized.template(region);
      const vpc = synthesized.config.regions[region]!.vpc!;
      for (const step of STEP_NAMES) {
        const fn = resourcesOf(template)[stepResourceId(template, step, 'AWS::Lambda::Function')]!.Properties;
        const networked = capabilitiesOf(step).some((c) => NETWORK_CAPABILITIES.includes(c));
        expect([step, fn.VpcConfig]).toEqual([
          step,
          networked
            ? { SubnetIds: vpc.subnets.map((s) => s.subnetId), SecurityGroupIds: vpc.securityGroupIds }
            : undefined,
        ]);
        const eni = statementsOfStep(template, step).find((s) => s.sid === 'LambdaVpcNetworkInterfaces');
        expect([step, Boolean(eni)]).toEqual([step, networked]);
      }
    }
    expect(
      STEP_NAMES.filter((s) => capabilitiesOf(s).some((c) => NETWORK_CAPABILITIES.includes(c))).sort(),
    ).toEqual(
      [
        'CaptureDataAtRisk',
        'CheckConsumerLag',
        'CheckTargetHealth',
        'FenceOldPrimary',
        'PromoteKafka',
        'PromotePostgres',
        'PromoteRedis',
        'RecheckBeforeResume',
        'ReconcileLedger',
        'RunSmokeHarness',
        'WaitForDrain',
        // failback
        'CheckReplicationCaughtUp',
        'ConfirmFinalLsn',
        'PostFailbackReview',
        'ReattachRedisReplica',
        'ReverseKafkaMirroring',
        'ValidateFailbackRequest',
        'VerifySwitchoverStage',
        'WarmUpTarget',
        // backup validation
        'ValidateKafkaOffsets',
        'ValidatePostgresRestore',
        'ValidateRedisRestore',
      ]
        .filter((s) => STEP_NAMES.includes(s as StepFunctionName))
        .sort(),
    );
  });

  test('a function never outlives its state: timeouts follow the ASL (callback steps only hand the token over)', () => {
    const template = synthesized.template(DR_REGION);
    const timeout = (step: StepFunctionName) =>
      resourcesOf(template)[stepResourceId(template, step, 'AWS::Lambda::Function')]!.Properties.Timeout;
    const asl = summarizeAsl(ASL_FILE);
    for (const step of FAILOVER_STEPS) {
      const variable = functionArnVariable(step);
      expect([step, timeout(step) >= (asl.taskTimeoutSeconds[variable] ?? 60)]).toEqual([step, true]);
    }
    for (const step of STEP_NAMES)
      expect([step, timeout(step)]).toEqual([step, functionTimeoutSeconds(step, WORKFLOWS)]);
    expect([timeout('ReconcileLedger'), timeout('PromotePostgres'), timeout('RequestApproval')]).toEqual([
      300, 120, 60,
    ]);
  });

  test('bundles are local esbuild ESM output (minified, source map, require banner); only the smoke harness carries data/sample.csv', () => {
    const template = synthesized.template(DR_REGION);
    const sample = fs.readFileSync(path.join(PROJECT_ROOT, 'data', 'sample.csv'));
    for (const step of STEP_NAMES) {
      const fn = resourcesOf(template)[stepResourceId(template, step, 'AWS::Lambda::Function')]!;
      const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
      const dir = path.join(synthesized.outdir, `asset.${hash}`);
      const files = fs.readdirSync(dir).sort();
      expect([step, files]).toEqual([
        step,
        step === 'RunSmokeHarness'
          ? ['index.mjs', 'index.mjs.map', 'sample.csv']
          : ['index.mjs', 'index.mjs.map'],
      ]);
      const code = fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith("import { createRequire as __drCreateRequire } from 'node:module';")).toBe(true);
      expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      // Minified: a handful of very long lines (unminified esbuild output averages well under 100 characters a line).
      expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
      if (step === 'RunSmokeHarness')
        expect(fs.readFileSync(path.join(dir, 'sample.csv')).equals(sample)).toBe(true);
    }
  });
});

describe('each bundle carries only what its step uses', () => {
  /** The SDK clients and data-store drivers each capability may bring into a bundle. */
  const MODULES_OF_CAPABILITY: Record<StepCapability, readonly string[]> = {
    lock: ['@aws-sdk/client-dynamodb'],
    lockRead: ['@aws-sdk/client-dynamodb'],
    runRecords: ['@aws-sdk/client-dynamodb'],
    notifier: ['@aws-sdk/client-sns', '@aws-sdk/client-dynamodb'],
    events: ['@aws-sdk/client-eventbridge'],
    flags: ['@aws-sdk/client-ssm'],
    flagsRead: ['@aws-sdk/client-ssm'],
    peerFlags: ['@aws-sdk/client-ssm'],
    router: ['@aws-sdk/client-route-53', '@aws-sdk/client-route53-recovery-cluster'],
    routerWrite: ['@aws-sdk/client-route-53', '@aws-sdk/client-route53-recovery-cluster'],
    evidence: ['@aws-sdk/client-s3'],
    postgres: ['pg', '@aws-sdk/client-rds', '@aws-sdk/client-secrets-manager'],
    postgresPromote: ['@aws-sdk/client-rds'],
    kafka: ['kafkajs'],
    redis: ['ioredis', '@aws-sdk/client-s3'],
    redisSnapshots: ['@aws-sdk/client-s3'],
    smokeSink: ['pg', '@aws-sdk/client-secrets-manager'],
    backups: ['@aws-sdk/client-s3', '@aws-sdk/client-kms'],
    backupEvidence: ['@aws-sdk/client-s3'],
    // The restore targets read the backup they restore.
    restoreTargets: ['@aws-sdk/client-rds', '@aws-sdk/client-s3', '@aws-sdk/client-kms'],
    restoredStores: ['pg', 'ioredis', '@aws-sdk/client-secrets-manager'],
    restoreValidation: ['@aws-sdk/client-backup'],
    // RDS / Aurora through the API; a self-managed node through pg (the sandbox's process control).
    postgresRebuild: ['@aws-sdk/client-rds', 'pg'],
  };
  /** Every SDK client and driver a step may bring in: each one only with a capability that allows it. */
  const GATED = [
    '@aws-sdk/client-backup',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-kms',
    '@aws-sdk/client-eventbridge',
    '@aws-sdk/client-rds',
    '@aws-sdk/client-route-53',
    '@aws-sdk/client-route53-recovery-cluster',
    '@aws-sdk/client-s3',
    '@aws-sdk/client-secrets-manager',
    '@aws-sdk/client-sns',
    '@aws-sdk/client-ssm',
    'ioredis',
    'kafkajs',
    'pg',
  ];

  /** The budget per minified bundle (npm run bench:synth prints every size). */
  const BUNDLE_BUDGET_BYTES = 300 * 1024;

  test('the bench’s esbuild options (lib/step-bundling.ts) rebuild every asset byte for byte; each bundle imports only the SDK clients and drivers of its capabilities and stays within 300 KB', async () => {
    const template = synthesized.template(DR_REGION);
    const bundling = stepBundlingOptions(synthesized.config.bundleAwsSdk);
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'tradepulse-dr-rebuild-'));
    try {
      for (const step of STEP_NAMES) {
        const fn = resourcesOf(template)[stepResourceId(template, step, 'AWS::Lambda::Function')]!;
        const asset = path.join(
          synthesized.outdir,
          `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`,
        );
        const options = esbuildOptionsFor(
          bundling,
          path.join(PROJECT_ROOT, handlerEntry(step)),
          path.join(outdir, step),
          PROJECT_ROOT,
        );
        const built = await esbuild.build({ ...options, metafile: true, write: false });
        const code = built.outputFiles.find((f) => f.path === options.outfile)!.text;
        expect([step, code === fs.readFileSync(path.join(asset, 'index.mjs'), 'utf8')]).toEqual([step, true]);

        const output = Object.values(built.metafile.outputs).find((o) => o.entryPoint)!;
        const used = new Set<string>();
        for (const i of output.imports)
          if (i.external && (i.path.startsWith('@aws-sdk/') || isDriver(i.path))) used.add(i.path);
        for (const input of Object.keys(output.inputs)) {
          const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
          if (pkg) used.add(pkg);
        }
        const allowed = new Set(capabilitiesOf(step).flatMap((c) => MODULES_OF_CAPABILITY[c]));
        expect([step, GATED.filter((m) => used.has(m) && !allowed.has(m))]).toEqual([step, []]);
        expect([step, Buffer.byteLength(code) <= BUNDLE_BUDGET_BYTES]).toEqual([step, true]);
        // The drivers stay out of the bundle: the driver layer provides them.
        const bundledDrivers = Object.keys(output.inputs).filter((input) =>
          DATA_STORE_DRIVERS.some((d) => input.includes(`node_modules/${d}/`)),
        );
        expect([step, bundledDrivers]).toEqual([step, []]);
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('data-store driver layer', () => {
  test.each(REGIONS)('%s: one layer for nodejs22.x on arm64, attached to every step function', (region) => {
    const template = synthesized.template(region);
    const layers = ofType(template, 'AWS::Lambda::LayerVersion');
    expect(layers).toHaveLength(1);
    const [layerId, layer] = layers[0]!;
    expect(layer.Properties.CompatibleRuntimes).toEqual(['nodejs22.x']);
    expect(layer.Properties.CompatibleArchitectures).toEqual(['arm64']);
    expect(layer.Properties.Description).toMatch(/kafkajs .*pg .*ioredis /);
    for (const step of STEP_NAMES) {
      const fn = resourcesOf(template)[stepResourceId(template, step, 'AWS::Lambda::Function')]!.Properties;
      expect([step, fn.Layers]).toEqual([step, [{ Ref: layerId }]]);
    }
  });

  test('the layer alone provides every driver the way the steps import them (ESM, nodejs/node_modules), without the project’s node_modules', () => {
    const template = synthesized.template(DR_REGION);
    const [, layer] = ofType(template, 'AWS::Lambda::LayerVersion')[0]!;
    const asset = path.join(
      synthesized.outdir,
      `asset.${String(layer.Properties.Content.S3Key).replace(/\.zip$/, '')}`,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tradepulse-dr-layer-'));
    try {
      fs.symlinkSync(path.join(asset, 'nodejs', 'node_modules'), path.join(dir, 'node_modules'), 'dir');
      const script = [
        "import pg from 'pg';",
        "import { Kafka, logLevel } from 'kafkajs';",
        "import { Redis } from 'ioredis';",
        "new Kafka({ clientId: 'probe', brokers: ['127.0.0.1:9'], logLevel: logLevel.NOTHING });",
        'new pg.Client({ host: "127.0.0.1" });',
        'new Redis({ lazyConnect: true }).disconnect();',
        "process.stdout.write('LOADED');",
      ].join('\n');
      fs.writeFileSync(path.join(dir, 'probe.mjs'), script);
      const result = spawnSync(process.execPath, ['probe.mjs'], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: '' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect({ stdout: result.stdout, stderr: result.stderr }).toEqual({ stdout: 'LOADED', stderr: '' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a built bundle runs as Lambda would run it', () => {
  test('ValidateInput’s index.mjs loads as ESM, reads DR_TOPOLOGY from its environment and declares a drill', () => {
    const template = synthesized.template(DR_REGION);
    const fn =
      resourcesOf(template)[stepResourceId(template, 'ValidateInput', 'AWS::Lambda::Function')]!.Properties;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tradepulse-dr-bundle-'));
    try {
      fs.copyFileSync(
        path.join(synthesized.outdir, `asset.${String(fn.Code.S3Key).replace(/\.zip$/, '')}`, 'index.mjs'),
        path.join(dir, 'index.mjs'),
      );
      // The Lambda runtime provides the AWS SDK v3 on its module path; here the project's copy stands in for it.
      fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
      const input = JSON.parse(
        fs.readFileSync(path.join(PROJECT_ROOT, 'events', 'drill-console.json'), 'utf8'),
      );
      const event = {
        input,
        execution: {
          id: 'arn:aws:states:us-west-2:111122223333:execution:sm:drill-7',
          name: 'drill-7',
          startTime: '2025-03-14T10:00:00Z',
        },
      };
      const script = `import('./index.mjs').then(async (m) => { const out = await m.handler(${JSON.stringify(event)}, { functionName: 'ValidateInput', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60000 }); process.stdout.write('RESULT ' + JSON.stringify(out)); })`;
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '',
          AWS_REGION: DR_REGION,
          POWERTOOLS_LOG_LEVEL: 'ERROR',
          ...fn.Environment.Variables,
          NODE_OPTIONS: '',
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.stderr).toBe('');
      const out = JSON.parse(result.stdout.slice(result.stdout.indexOf('RESULT ') + 7));
      expect(out.result.run).toMatchObject({
        runId: 'drill-7',
        mode: 'drill',
        sourceRegion: 'us-east-1',
        targetRegion: DR_REGION,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A substitution value as it would sit inside a JSON string of the definition (a visible marker). */
const inString = (value: unknown) => JSON.stringify(`<<${JSON.stringify(value)}>>`).slice(1, -1);

describe('failover workflow (DrWorkflow)', () => {
  /** The failover state machine (construct id `Failover`). */
  const stateMachine = (template: Template) =>
    ofType(template, 'AWS::StepFunctions::StateMachine').filter(([id]) => id.startsWith('Failover'));

  test('deploys state-machines/failover.asl.json unchanged, with a substitution for every ${…} in it', () => {
    const template = synthesized.template(DR_REGION);
    expect(stateMachine(template)).toHaveLength(1);
    const props = stateMachine(template)[0]![1].Properties;
    expect(props.DefinitionString).toBeUndefined();
    const assetFile = path.join(synthesized.outdir, `asset.${String(props.DefinitionS3Location.Key)}`);
    expect(fs.readFileSync(assetFile, 'utf8')).toBe(fs.readFileSync(ASL_FILE, 'utf8'));
    expect(Object.keys(props.DefinitionSubstitutions).sort()).toEqual(
      [...summarizeAsl(ASL_FILE).substitutions].sort(),
    );
  });

  test('after CloudFormation substitutes, no ${…FunctionArn} is left and every step function is referenced', () => {
    const template = synthesized.template(DR_REGION);
    const props = stateMachine(template)[0]![1].Properties;
    const text = fs.readFileSync(ASL_FILE, 'utf8');
    const substituted = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
      const value = props.DefinitionSubstitutions[name];
      return value ? inString(value) : whole;
    });
    expect(substituted).not.toMatch(/\$\{[A-Za-z0-9_]*FunctionArn\}/);
    expect(() => JSON.parse(substituted)).not.toThrow();
    for (const step of FAILOVER_STEPS) {
      const functionId = stepResourceId(template, step, 'AWS::Lambda::Function');
      expect([step, substituted.includes(inString({ 'Fn::GetAtt': [functionId, 'Arn'] }))]).toEqual([
        step,
        true,
      ]);
    }
  });

  test('logs ALL events with execution data to a dedicated vended-logs group with retention, and traces with X-Ray', () => {
    const template = synthesized.template(DR_REGION);
    const props = stateMachine(template)[0]![1].Properties;
    expect(props.StateMachineType).toBe('STANDARD');
    expect(props.TracingConfiguration).toEqual({ Enabled: true });
    expect(props.LoggingConfiguration.Level).toBe('ALL');
    expect(props.LoggingConfiguration.IncludeExecutionData).toBe(true);
    const logGroupId =
      props.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    const logGroup = resourcesOf(template)[logGroupId]!;
    expect(logGroup.Properties.LogGroupName).toBe(
      `/aws/vendedlogs/states/tradepulse-dr-${DR_REGION}-Failover`,
    );
    expect(logGroup.Properties.RetentionInDays).toBe(synthesized.config.logRetentionDays);
    expect(logGroup.DeletionPolicy).toBe('Retain');
  });

  test('the failover role may invoke exactly the failover’s step functions (unqualified ARNs, nothing else)', () => {
    const template = synthesized.template(DR_REGION);
    const roleArn = stateMachine(template)[0]![1].Properties.RoleArn['Fn::GetAtt'][0];
    const invoke = identityPolicyStatements(template).filter(
      (s) =>
        s.actions.includes('lambda:InvokeFunction') &&
        s.resourceType === 'AWS::IAM::Policy' &&
        roleOfPolicy(template, s.resourceId) === roleArn,
    );
    expect(invoke).toHaveLength(1);
    expect(roleOfPolicy(template, invoke[0]!.resourceId)).toBe(roleArn);
    expect(invoke[0]!.actions).toEqual(['lambda:InvokeFunction']);
    const expected = FAILOVER_STEPS.map((s) => ({
      'Fn::GetAtt': [stepResourceId(template, s, 'AWS::Lambda::Function'), 'Arn'],
    }));
    expect(invoke[0]!.resources).toHaveLength(expected.length);
    expect(invoke[0]!.resources).toEqual(expect.arrayContaining(expected));
  });

  test('alarms on failed, timed-out and aborted executions notify the region’s topic', () => {
    const template = synthesized.template(DR_REGION);
    const smId = stateMachine(template)[0]![0];
    const topicId = ofType(template, 'AWS::SNS::Topic')[0]![0];
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: smId } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topicId }],
      });
    }
  });

  test('a dashboard shows executions by outcome, every step’s duration (EMF) and errors, replication lag and measured RTO', () => {
    const template = synthesized.template(DR_REGION);
    const dashboards = ofType(template, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const [, dashboard] = dashboards[0]!;
    expect(dashboard.Properties.DashboardName).toBe(`tradepulse-dr-${DR_REGION}`);
    const parts = dashboard.Properties.DashboardBody['Fn::Join'][1] as (string | { Ref?: string })[];
    const body = parts.map((p) => (typeof p === 'string' ? p : `<<${p.Ref ?? JSON.stringify(p)}>>`)).join('');
    for (const metric of [
      'ExecutionsStarted',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionsAborted',
      'ExecutionTime',
    ]) {
      expect([metric, body.includes(`"${metric}"`)]).toEqual([metric, true]);
    }
    const widgets = (JSON.parse(body.replace(/<<[^>]*>>/g, 'X')) as { widgets: Loose[] }).widgets;
    const metricsOf = (title: string) => {
      const widget = widgets.find((w) => w.properties.title === title);
      if (!widget) throw new Error(`no widget '${title}'`);
      return widget.properties.metrics as Loose[][];
    };
    // Step durations come from the handler wrapper's EMF metric, one line per step.
    const durations = metricsOf('Step durations (max, from the steps)');
    expect(durations).toHaveLength(STEP_NAMES.length);
    for (const [i, step] of STEP_NAMES.entries()) {
      expect(durations[i]!.slice(0, 6)).toEqual([
        DR_METRICS_NAMESPACE,
        DR_METRICS.stepDuration,
        'service',
        'tradepulse-dr',
        'step',
        STEP_FUNCTIONS[step].name,
      ]);
      const functionId = stepResourceId(template, step, 'AWS::Lambda::Function');
      // Once, in the errors graph.
      expect([step, body.split(`<<${functionId}>>`).length - 1]).toEqual([step, 1]);
    }
    const lag = metricsOf('Replication lag at declaration (seconds)').map((m) => m.slice(0, 4));
    expect(lag).toEqual([
      [DR_METRICS_NAMESPACE, DR_METRICS.postgresLagSeconds, 'service', 'tradepulse-dr'],
      [DR_METRICS_NAMESPACE, DR_METRICS.kafkaLagSeconds, 'service', 'tradepulse-dr'],
    ]);
    const rtoWidget = widgets.find((w) => w.properties.title === 'Measured RTO per run (seconds)')!;
    expect(rtoWidget.properties.metrics[0].slice(0, 4)).toEqual([
      DR_METRICS_NAMESPACE,
      DR_METRICS.measuredRtoSeconds,
      'service',
      'tradepulse-dr',
    ]);
    expect(rtoWidget.properties.annotations.horizontal.map((a: Loose) => a.value)).toEqual([600, 480, 300]);
    const dataAtRisk = metricsOf('Data at risk at declaration').map((m) => m[1]);
    expect(dataAtRisk).toEqual([
      DR_METRICS.postgresLagBytes,
      DR_METRICS.redisOffsetBehindBytes,
      DR_METRICS.kafkaMessagesBehind,
    ]);
  });

  test('outputs the state machine ARN for drills from the console', () => {
    const template = synthesized.template(DR_REGION);
    template.hasOutput('FailoverStateMachineArn', { Value: { Ref: stateMachine(template)[0]![0] } });
  });
});

describe('regional resources', () => {
  test('evidence bucket: versioned, Object Lock COMPLIANCE default retention, KMS, public access blocked, access-logged, retained', () => {
    const template = synthesized.template(DR_REGION);
    const own = synthesized.config.topology.regions[DR_REGION]!.aws;
    const [id, bucket] = ofType(template, 'AWS::S3::Bucket').find(
      ([, b]) => b.Properties.BucketName === own.evidenceBucket,
    )!;
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: synthesized.config.evidenceRetentionDays } },
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
            },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { LogFilePrefix: 'evidence/' },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    // TLS only: the bucket policy denies every request without aws:SecureTransport.
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('lock and run-record table: pk/sk strings, point-in-time recovery, encryption, deletion protection, retained', () => {
    const template = synthesized.template(DR_REGION);
    const tables = ofType(template, 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const [, table] = tables[0]!;
    expect(table.Properties).toMatchObject({
      TableName: synthesized.config.topology.regions[DR_REGION]!.aws.lockTable,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(table.DeletionPolicy).toBe('Retain');
  });

  test('notification topic: the configured name, KMS-encrypted with a rotating key, publish over TLS only', () => {
    const template = synthesized.template(DR_REGION);
    const [topicId, topic] = ofType(template, 'AWS::SNS::Topic')[0]!;
    expect(topic.Properties.TopicName).toBe('tradepulse-dr-notifications');
    const keyId = topic.Properties.KmsMasterKeyId['Fn::GetAtt'][0];
    expect(resourcesOf(template)[keyId]!.Properties.EnableKeyRotation).toBe(true);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('least privilege', () => {
  /**
   * The only statements with Resource "*", and why AWS requires it:
   * - X-Ray PutTraceSegments/PutTelemetryRecords (and the workflow's sampling reads) have no resource-level permissions;
   * - the CloudWatch Logs vended-delivery actions Step Functions needs for execution logging have none either;
   * - the EC2 network-interface actions Lambda uses to attach a function to a VPC are validated on "*".
   */
  const AWS_REQUIRES_RESOURCE_WILDCARD = new Set([
    'xray:PutTraceSegments',
    'xray:PutTelemetryRecords',
    'xray:GetSamplingRules',
    'xray:GetSamplingTargets',
    'backup:PutRestoreValidationResult',
    'logs:CreateLogDelivery',
    'logs:GetLogDelivery',
    'logs:UpdateLogDelivery',
    'logs:DeleteLogDelivery',
    'logs:ListLogDeliveries',
    'logs:PutResourcePolicy',
    'logs:DescribeResourcePolicies',
    'logs:DescribeLogGroups',
    'ec2:CreateNetworkInterface',
    'ec2:DescribeNetworkInterfaces',
    'ec2:DescribeSubnets',
    'ec2:DeleteNetworkInterface',
    'ec2:AssignPrivateIpAddresses',
    'ec2:UnassignPrivateIpAddresses',
  ]);

  test.each(REGIONS)(
    '%s: no action is "*" or has a wildcard; Resource "*" only for actions AWS gives no resource for',
    (region) => {
      const statements = identityPolicyStatements(synthesized.template(region));
      expect(statements.length).toBeGreaterThan(STEP_NAMES.length);
      const wildcardActions = statements.flatMap((s) => s.actions.filter((a) => a.includes('*')));
      expect(wildcardActions).toEqual([]);
      const unjustified = statements
        .filter((s) => s.resources.includes('*'))
        .flatMap((s) =>
          s.actions.filter((a) => !AWS_REQUIRES_RESOURCE_WILDCARD.has(a)).map((a) => `${s.resourceId}: ${a}`),
        );
      expect(unjustified).toEqual([]);
      // Wildcards inside ARNs are limited to documented prefixes (object keys, change ids, executions, log streams).
      const arnWildcards = new Set(
        statements.flatMap((s) =>
          s.resources
            .filter((r) => r !== '*' && JSON.stringify(r).includes('*'))
            .map((r) => JSON.stringify(r).replace(/[A-Za-z0-9]{8}"/g, '"')),
        ),
      );
      for (const w of arnWildcards)
        expect(w).toMatch(
          /\/disaster-recovery\/\*|\/feature-snapshots\/\*|\/backup-validation\/\*|\/backups\/tradepulse\/\*|arn:aws:route53:::change\/\*|:execution:.*:\*|:rds:[a-z0-9-]+:\d{12}:(db|cluster):tpdr-bv-\*|:rds:[a-z0-9-]+:\d{12}:(snapshot|cluster-snapshot|og|pg|cluster-pg):\*/,
        );
    },
  );

  test('the key policy has only the AWS default account statement and the CloudWatch alarm grant', () => {
    const template = synthesized.template(DR_REGION);
    const [, key] = ofType(template, 'AWS::KMS::Key')[0]!;
    const statements = key.Properties.KeyPolicy.Statement as {
      Sid?: string;
      Action: string | string[];
      Principal: unknown;
      Condition?: unknown;
    }[];
    expect(statements).toHaveLength(2);
    // The AWS default key policy statement: the account's IAM policies govern the key (kms:* for the account root).
    expect(statements[0]).toMatchObject({
      Action: 'kms:*',
      Principal: { AWS: 'arn:aws:iam::111122223333:root' },
    });
    expect(statements[1]).toMatchObject({
      Sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
    });
  });

  test('each step holds only its own capabilities (sensitive actions by holder)', () => {
    const template = synthesized.template(DR_REGION);
    const holders = (action: string) => rolesHolding(template, action);
    expect(holders('route53:ChangeResourceRecordSets')).toEqual(stepRoles(template, ['CutoverTraffic']));
    /** Of these, the steps the deployed workflows use (failback and backup validation join once their files exist). */
    const deployed = (steps: string[]) =>
      steps.filter((s) => STEP_NAMES.includes(s as StepFunctionName)) as StepFunctionName[];
    expect(holders('route53:ListResourceRecordSets')).toEqual(
      stepRoles(
        template,
        deployed([
          'CutoverTraffic',
          'RecheckBeforeResume',
          'WaitForDnsSync',
          'ValidateFailbackRequest',
          'VerifySwitchoverStage',
        ]),
      ),
    );
    expect(holders('ssm:PutParameter')).toEqual(
      stepRoles(
        template,
        deployed([
          'AnnounceRegion',
          'FreezeDeployments',
          'QuiesceTrading',
          'RecordFailure',
          'ResumeTrading',
          'PostFailbackReview',
        ]),
      ),
    );
    expect(holders('ssm:GetParameters')).toEqual(
      stepRoles(
        template,
        deployed([
          'AnnounceRegion',
          'FreezeDeployments',
          'QuiesceTrading',
          'RecheckBeforeResume',
          'RecordFailure',
          'ResumeTrading',
          'ValidateFailbackRequest',
          'VerifySwitchoverStage',
          'PostFailbackReview',
        ]),
      ),
    );
    expect(holders('s3:PutObject')).toEqual(
      stepRoles(template, deployed(['WriteEvidenceBundle', 'RecordBackupValidation'])),
    );
    expect(holders('s3:PutObjectRetention')).toEqual(stepRoles(template, ['WriteEvidenceBundle']));
    expect(holders('sns:Publish')).toEqual(
      stepRoles(template, deployed(['Notify', 'RequestApproval', 'NotifyBackupValidation'])),
    );
    expect(holders('rds:RestoreDBInstanceFromDBSnapshot')).toEqual(
      stepRoles(
        template,
        deployed(['RestorePostgresBackup', 'RestoreRedisBackup', 'TeardownRestoreTargets']),
      ),
    );
    expect(holders('rds:DeleteDBInstance')).toEqual(
      stepRoles(
        template,
        deployed(['RestorePostgresBackup', 'RestoreRedisBackup', 'TeardownRestoreTargets']),
      ),
    );
    expect(holders('backup:PutRestoreValidationResult')).toEqual(
      stepRoles(template, deployed(['ReportRestoreValidation'])),
    );
    expect(holders('kms:Verify')).toEqual(
      stepRoles(
        template,
        deployed([
          'SelectBackups',
          'RestorePostgresBackup',
          'RestoreRedisBackup',
          'ValidatePostgresRestore',
          'ValidateRedisRestore',
          'ValidateKafkaOffsets',
        ]),
      ),
    );
    expect(holders('events:PutEvents')).toEqual(
      stepRoles(template, ['AnnounceRegion', 'FreezeDeployments', 'ResumeTrading']),
    );
    expect(holders('dynamodb:DeleteItem')).toEqual(stepRoles(template, ['AcquireLock', 'ReleaseLock']));
    expect(holders('s3:GetObjectVersion')).toEqual(stepRoles(template, ['PromoteRedis']));
    const putEvents = statementsOfStep(template, 'AnnounceRegion').find((s) => s.sid === 'PutDrEvents')!;
    expect(putEvents.resources).toEqual([`arn:aws:events:${DR_REGION}:111122223333:event-bus/default`]);
    expect(putEvents.conditions).toEqual({ StringEquals: { 'events:source': ['tradepulse.dr'] } });
  });

  test('the validation step can do nothing but log and trace', () => {
    const template = synthesized.template(DR_REGION);
    const actions = statementsOfStep(template, 'ValidateInput')
      .flatMap((s) => s.actions)
      .sort();
    expect(actions).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  test('the lock step reaches only the application’s lock item; run records only run partitions', () => {
    const template = synthesized.template(DR_REGION);
    const tableId = ofType(template, 'AWS::DynamoDB::Table')[0]![0];
    const lock = statementsOfStep(template, 'AcquireLock').find((s) => s.sid === 'LockItem')!;
    expect(lock).toMatchObject({
      actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
      resources: [{ 'Fn::GetAtt': [tableId, 'Arn'] }],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['lock#tradepulse'] } },
    });
    const records = statementsOfStep(template, 'OpenRunRecord').find((s) => s.sid === 'RunRecords')!;
    expect(records.conditions).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['run#*'] } });
  });

  test('the DNS cutover may only UPSERT the four trading CNAMEs in the configured zone', () => {
    const template = synthesized.template(DR_REGION);
    const move = statementsOfStep(template, 'CutoverTraffic').find((s) => s.sid === 'MoveTradingRecords')!;
    expect(move.resources).toEqual(['arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ']);
    expect(move.conditions).toEqual({
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': [
          'api.trading.tradepulse.internal',
          'pg-writer.trading.tradepulse.internal',
          'kafka.trading.tradepulse.internal',
          'redis.trading.tradepulse.internal',
        ],
        'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
        'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
      },
    });
  });

  test('only the approver role may answer the approval, and only the configured approvers may assume it', () => {
    for (const region of REGIONS) {
      const template = synthesized.template(region);
      const withApproval = synthesized.stack(region).approval.stateMachines;
      const smIds = withApproval.map((sm) =>
        synthesized.stack(region).getLogicalId(sm.node.defaultChild as never),
      );
      expect(smIds[0]).toMatch(/^Failover/);
      const approverRole = synthesized
        .stack(region)
        .getLogicalId(synthesized.stack(region).approval.role.node.defaultChild as never);
      for (const action of ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat']) {
        expect([action, rolesHolding(template, action)]).toEqual([action, [approverRole]]);
      }
      const answer = identityPolicyStatements(template).find((s) => s.sid === 'AnswerApproval')!;
      expect(answer.resources).toHaveLength(smIds.length);
      expect(answer.resources).toEqual(expect.arrayContaining(smIds.map((id) => ({ Ref: id }))));
      const trust = resourcesOf(template)[approverRole]!.Properties.AssumeRolePolicyDocument.Statement;
      expect(trust).toEqual([
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { AWS: [...synthesized.config.approverPrincipalArns].sort() },
        },
      ]);
      template.hasOutput('ApproverRoleArn', { Value: { 'Fn::GetAtt': [approverRole, 'Arn'] } });
    }
  });
});

describe('automatic failover trigger', () => {
  const sampleEvent = JSON.parse(
    fs.readFileSync(path.join(PROJECT_ROOT, 'events', 'alarm-state-change.json'), 'utf8'),
  );

  const ruleOf = (template: Template) => ofType(template, 'AWS::Events::Rule')[0]![1].Properties;
  /** What the DR region's rule starts the failover with for `event` (its pattern must match it). */
  const startInput = (event: Record<string, unknown>) => {
    const rule = ruleOf(synthesized.template(DR_REGION));
    expect(matchesEventPattern(rule.EventPattern, event)).toBe(true);
    return applyInputTransformer(rule.Targets[0].InputTransformer, event, {
      ruleArn: `arn:aws:events:${DR_REGION}:111122223333:rule/failover-alarm`,
      ruleName: 'failover-alarm',
    });
  };
  const declare = (input: unknown, name: string, startTime: string) =>
    executeStep(
      validateInputStep,
      {
        input,
        execution: { id: `arn:aws:states:${DR_REGION}:111122223333:execution:x:${name}`, name, startTime },
      },
      { topology: synthesized.config.topology, region: DR_REGION },
    );

  test('each region’s rule matches ALARM of exactly the alarms that fail over into it, with retries and a dead-letter queue', () => {
    for (const region of REGIONS) {
      const template = synthesized.template(region);
      const expected = Object.entries(synthesized.config.topology.alarms)
        .filter(([, a]) => a.targetRegion === region)
        .map(([n]) => n);
      const rule = ruleOf(template);
      expect(rule.EventPattern).toEqual({
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: expected, state: { value: ['ALARM'] } },
      });
      const [target] = rule.Targets;
      expect(target.Arn).toEqual({ Ref: ofType(template, 'AWS::StepFunctions::StateMachine')[0]![0] });
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 });
      const dlqId = target.DeadLetterConfig.Arn['Fn::GetAtt'][0];
      expect(resourcesOf(template)[dlqId]!.Type).toBe('AWS::SQS::Queue');
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      });
    }
  });

  test('the rule matches events/alarm-state-change.json, and its input transformer turns it into input the Declare step accepts', async () => {
    const input = startInput(sampleEvent);
    expect(input).toEqual({
      trigger: 'alarm',
      mode: 'failover',
      alarm: { name: sampleEvent.detail.alarmName, state: 'ALARM', reason: sampleEvent.detail.state.reason },
      time: sampleEvent.time,
    });
    // The reason carries double quotes: the transformer's value placeholders keep it valid JSON.
    expect(sampleEvent.detail.state.reason).toContain('"order gateway"');
    expect(ExecutionInputSchema.safeParse(input).success).toBe(true);
    const declared = await declare(input, 'run-1', sampleEvent.time);
    expect(declared.result.run).toMatchObject({
      mode: 'failover',
      sourceRegion: 'us-east-1',
      targetRegion: DR_REGION,
      trigger: { kind: 'alarm', alarmName: sampleEvent.detail.alarmName },
    });
    // The other region's rule does not start on this alarm: it fails over into us-west-2 only.
    expect(matchesEventPattern(ruleOf(synthesized.template('us-east-1')).EventPattern, sampleEvent)).toBe(
      false,
    );
  });

  test('a flapping alarm: OK is ignored, the second ALARM starts a run the Declare step accepts, and the lock refuses it', async () => {
    const ok = structuredClone(sampleEvent);
    ok.id = 'flap-ok';
    ok.time = '2025-03-14T09:28:10Z';
    ok.detail.previousState = ok.detail.state;
    ok.detail.state = { ...ok.detail.state, value: 'OK', reason: 'checks recovered' };
    expect(matchesEventPattern(ruleOf(synthesized.template(DR_REGION)).EventPattern, ok)).toBe(false);

    const again = structuredClone(sampleEvent);
    again.id = 'flap-alarm';
    again.time = '2025-03-14T09:29:02Z';
    again.detail.previousState = ok.detail.state;
    const secondInput = startInput(again);
    expect(ExecutionInputSchema.safeParse(secondInput).success).toBe(true);

    const first = (await declare(startInput(sampleEvent), 'alarm-run-1', sampleEvent.time)).result.run;
    const second = (await declare(secondInput, 'alarm-run-2', again.time)).result.run;
    expect(second).toMatchObject({ mode: 'failover', targetRegion: DR_REGION });
    // Both executions reach AcquireLock; the single-flight lock lets only the first through.
    const clock = new FakeClock('2025-03-14T09:29:03Z');
    const lock = { lock: new FakeLockStore(clock), topology: synthesized.config.topology };
    await executeStep(acquireLockStep, { run: first }, lock, clock);
    await expect(executeStep(acquireLockStep, { run: second }, lock, clock)).rejects.toMatchObject({
      name: 'LockHeldError',
    });
  });

  test('the documented console drill inputs pass the Declare step for the DR region', async () => {
    for (const file of ['drill-console.json', 'dry-run-console.json']) {
      const input = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'events', file), 'utf8'));
      const declared = await executeStep(
        validateInputStep,
        {
          input,
          execution: {
            id: 'arn:aws:states:us-west-2:111122223333:execution:x:drill-1',
            name: 'drill-1',
            startTime: '2025-03-14T10:00:00Z',
          },
        },
        { topology: synthesized.config.topology, region: DR_REGION },
      );
      expect([file, declared.result.run.targetRegion]).toEqual([file, DR_REGION]);
    }
  });
});

describe('every workflow from one list; the scheduled backup validation', () => {
  const machines = (template: Template) =>
    Object.fromEntries(ofType(template, 'AWS::StepFunctions::StateMachine').map(([id, r]) => [id, r]));

  test.each(REGIONS)(
    '%s: one state machine per deployed workflow, each invoking exactly its own steps, each with an ARN output',
    (region) => {
      const template = synthesized.template(region);
      const stack = synthesized.stack(region);
      expect(Object.keys(stack.workflows).sort()).toEqual(WORKFLOWS.map((w) => w.spec.id).sort());
      expect(stack.skippedWorkflows).toEqual([]);
      expect(Object.keys(machines(template))).toHaveLength(WORKFLOWS.length);
      for (const workflow of WORKFLOWS) {
        const sm = stack.workflows[workflow.spec.id]!;
        const smId = stack.getLogicalId(sm.stateMachine.node.defaultChild as never);
        const roleId = stack.getLogicalId(sm.role.node.defaultChild as never);
        template.hasOutput(`${workflow.spec.id}StateMachineArn`, { Value: { Ref: smId } });
        const invoke = identityPolicyStatements(template).filter(
          (st) =>
            st.actions.includes('lambda:InvokeFunction') &&
            st.resourceType === 'AWS::IAM::Policy' &&
            roleOfPolicy(template, st.resourceId) === roleId,
        );
        expect(invoke).toHaveLength(1);
        const expected = workflow.steps.map((step) => ({
          'Fn::GetAtt': [stepResourceId(template, step, 'AWS::Lambda::Function'), 'Arn'],
        }));
        expect([workflow.spec.id, invoke[0]!.resources.length]).toEqual([workflow.spec.id, expected.length]);
        expect(invoke[0]!.resources).toEqual(expect.arrayContaining(expected));
        expect(machines(template)[smId]!.Properties.LoggingConfiguration.Level).toBe('ALL');
        expect(machines(template)[smId]!.Properties.TracingConfiguration).toEqual({ Enabled: true });
      }
      // A step two workflows share is one function (e.g. the failover's and the failback's ValidateInput).
      const shared = STEP_NAMES.filter((n) => WORKFLOWS.filter((w) => w.steps.includes(n)).length > 1);
      for (const step of shared)
        expect(() => stepResourceId(template, step, 'AWS::Lambda::Function')).not.toThrow();
      template.resourceCountIs('AWS::Lambda::Function', STEP_NAMES.length);
    },
  );

  const backupValidation = WORKFLOWS.find((w) => w.spec.role === 'backup-validation');

  test('the backup-validation workflow is deployed (its file is in state-machines/ and complete)', () => {
    expect(backupValidation?.spec.file).toBe('state-machines/backup-validation.asl.json');
  });

  test.each(REGIONS)(
    '%s: an EventBridge Scheduler schedule starts it with the documented input, on the configured cron, window off, retries and a DLQ; alarms when it fails or does not run',
    (region) => {
      const template = synthesized.template(region);
      const stack = synthesized.stack(region);
      const settings = synthesized.config.backupValidation;
      const schedule = stack.backupValidationSchedule!;
      const smId = stack.getLogicalId(
        stack.workflows[backupValidation!.spec.id]!.stateMachine.node.defaultChild as never,
      );
      const props = ofType(template, 'AWS::Scheduler::Schedule').map(([, r]) => r.Properties)[0]!;
      expect(props).toMatchObject({
        ScheduleExpression: settings.scheduleExpression,
        ScheduleExpressionTimezone: settings.timezone,
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: { Ref: smId },
          RetryPolicy: {
            MaximumRetryAttempts: settings.retryAttempts,
            MaximumEventAgeInSeconds: settings.maxEventAgeMinutes * 60,
          },
        },
      });
      expect(JSON.parse(props.Target.Input)).toEqual(
        JSON.parse(
          fs.readFileSync(path.join(PROJECT_ROOT, 'events', 'backup-validation-schedule.json'), 'utf8'),
        ),
      );
      const alarmOf = (a: { node: { defaultChild?: unknown } }) =>
        resourcesOf(template)[stack.getLogicalId(a.node.defaultChild as never)]!.Properties;
      expect(alarmOf(schedule.alarms.didNotRun)).toMatchObject({
        MetricName: 'ExecutionsStarted',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: smId } }],
        EvaluationPeriods: settings.expectedIntervalHours + 24,
        TreatMissingData: 'breaching',
      });
      expect(alarmOf(schedule.alarms.failed).AlarmActions).toHaveLength(1);
      template.hasOutput('BackupValidationStateMachineArn', { Value: { Ref: smId } });
    },
  );

  test('the schedule’s input, as Scheduler fills in its context, is what the workflow’s first step accepts', async () => {
    const template = synthesized.template(DR_REGION);
    const props = ofType(template, 'AWS::Scheduler::Schedule').map(([, r]) => r.Properties)[0]!;
    const filled = JSON.parse(
      String(props.Target.Input)
        .replace('<aws.scheduler.scheduled-time>', '2026-11-27T03:00:00Z')
        .replace('<aws.scheduler.execution-id>', 'd5b7c1e0-0000-4000-8000-000000000001')
        .replace('<aws.scheduler.attempt-number>', '1'),
    );
    const { result } = await executeStep(
      startBackupValidationStep,
      {
        input: filled,
        execution: {
          id: `arn:aws:states:${DR_REGION}:111122223333:execution:bv:run-1`,
          name: 'run-1',
          startTime: '2026-11-27T03:00:01Z',
        },
      },
      { topology: synthesized.config.topology, region: DR_REGION },
    );
    expect(result).toMatchObject({
      run: {
        trigger: 'schedule',
        stores: ['postgres', 'redis', 'kafka'],
        schedule: { scheduledTime: '2026-11-27T03:00:00Z', attemptNumber: '1' },
      },
    });
  });
});

describe('cdk-nag AwsSolutionsChecks', () => {
  test('no unacknowledged errors or warnings in any stack', () => {
    const report = new AwsSolutionsChecks(synthesized.app).validateScope(synthesized.app);
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('every acknowledgment carries a reason', () => {
    const acknowledged: { path: string; id: string; reason: string }[] = [];
    const visit = (c: IConstruct) => {
      for (const entry of c.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
          for (const [id, reason] of Object.entries(entry.data as Record<string, string>))
            acknowledged.push({ path: c.node.path, id, reason });
        }
      }
      c.node.children.forEach(visit);
    };
    visit(synthesized.app);
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(acknowledged.filter((a) => typeof a.reason !== 'string' || a.reason.trim().length < 40)).toEqual(
      [],
    );
  });

  test('the checks are live: an unjustified wildcard in a new statement is reported', () => {
    const probeApp = new App();
    const stack = new Stack(probeApp, 'NagProbe', { env: { account: '111122223333', region: DR_REGION } });
    const role = new Role(stack, 'Probe', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['dynamodb:*'], resources: ['*'] }),
    );
    const report = new AwsSolutionsChecks(probeApp).validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-IAM5[Action::dynamodb:*]']),
    );
  });
});

describe('static stability', () => {
  test.each(REGIONS)(
    'the %s stack names no other configured region outside the documented places',
    (region) => {
      const template = synthesized.template(region).toJSON();
      expect(
        staticStabilityViolations(template, region, Object.keys(synthesized.config.topology.regions)),
      ).toEqual([]);
    },
  );

  test('the check catches a table, secret or parameter homed in another region', () => {
    const stack = new Stack(new App(), 'Probe', { env: { account: '111122223333', region: DR_REGION } });
    const role = new Role(stack, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem'],
        resources: ['arn:aws:dynamodb:us-east-1:111122223333:table/tradepulse-dr-runs'],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: ['arn:aws:secretsmanager:us-east-1:111122223333:secret:pg-AbCdEf'],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: 'BestEffortPeerRegionTradingFlags',
        actions: ['ssm:DeleteParameter'],
        resources: ['arn:aws:ssm:us-east-1:111122223333:parameter/x'],
      }),
    );
    const violations = staticStabilityViolations(Template.fromStack(stack).toJSON(), DR_REGION, [...REGIONS]);
    expect(violations.map((v) => v.detail)).toEqual([
      expect.stringContaining('names us-east-1: arn:aws:dynamodb:us-east-1'),
      expect.stringContaining('names us-east-1: arn:aws:secretsmanager:us-east-1'),
      expect.stringContaining('names us-east-1: arn:aws:ssm:us-east-1'),
    ]);
  });
});

describe('a managed-database, ARC-routed deployment', () => {
  let variant: SynthesizedApp;
  beforeAll(() => {
    const input = sampleConfigInput() as DeploymentConfigInput & { topology: Loose };
    for (const [region, suffix] of [
      ['us-east-1', 'use1'],
      ['us-west-2', 'usw2'],
    ] as const) {
      const pg = input.topology.regions[region].postgres;
      input.topology.regions[region].postgres = {
        ...pg,
        kind: 'aurora-global',
        globalClusterIdentifier: 'tradepulse-global',
        dbClusterArn: `arn:aws:rds:${region}:111122223333:cluster:tradepulse-${suffix}`,
        passwordSecretArn: `arn:aws:secretsmanager:${region}:111122223333:secret:tradepulse/${suffix}/dr-operator-AbCdEf`,
      };
    }
    input.topology.dns = {
      ...input.topology.dns,
      method: 'arc-routing-control',
      arc: {
        clusterEndpoints: [
          { endpoint: 'https://host-aaaaaa.us-east-1.example.com/v1', region: 'us-east-1' },
          { endpoint: 'https://host-bbbbbb.us-west-2.example.com/v1', region: 'us-west-2' },
        ],
        routingControlArns: {
          'us-east-1': 'arn:aws:route53-recovery-control::111122223333:controlpanel/abc/routingcontrol/use1',
          'us-west-2': 'arn:aws:route53-recovery-control::111122223333:controlpanel/abc/routingcontrol/usw2',
        },
      },
    };
    delete input.regions;
    variant = synthesizeApp(input, outdir);
  });

  test('a topology too large for Lambda’s 4 KB environment travels gzip+base64 in DR_TOPOLOGY_GZIP, and the deployed steps read it back', () => {
    const template = variant.template(DR_REGION);
    const fn = resourcesOf(template)[stepResourceId(template, 'ValidateInput', 'AWS::Lambda::Function')]!;
    const vars = fn.Properties.Environment.Variables as Record<string, string>;
    expect(vars.DR_TOPOLOGY).toBeUndefined();
    expect(
      JSON.parse(
        JSON.stringify(JSON.parse(topologyTextFromEnvironment({ DR_TOPOLOGY_GZIP: vars.DR_TOPOLOGY_GZIP }))),
      ),
    ).toEqual(variant.config.topology);
    expect(JSON.stringify(variant.config.topology).length).toBeGreaterThan(4096 - 200);
    expect(() => topologyTextFromEnvironment({})).toThrow(/DR_TOPOLOGY \(or DR_TOPOLOGY_GZIP\) is not set/);
    expect(() => topologyTextFromEnvironment({ DR_TOPOLOGY_GZIP: 'bm90IGd6aXA=' })).toThrow(
      /DR_TOPOLOGY_GZIP is not gzip\+base64/,
    );
  });

  test('database secrets are read from this region’s replicas; promotion names the global cluster and this region’s cluster only', () => {
    const template = variant.template(DR_REGION);
    const secrets = statementsOfStep(template, 'PromotePostgres').find((s) => s.sid === 'DatabaseSecrets')!;
    expect(secrets.actions).toEqual(['secretsmanager:GetSecretValue']);
    expect([...secrets.resources].sort()).toEqual([
      'arn:aws:secretsmanager:us-west-2:111122223333:secret:tradepulse/use1/dr-operator-AbCdEf',
      'arn:aws:secretsmanager:us-west-2:111122223333:secret:tradepulse/usw2/dr-operator-AbCdEf',
    ]);
    const promote = statementsOfStep(template, 'PromotePostgres').find(
      (s) => s.sid === 'PromoteGlobalDatabase',
    )!;
    expect(promote).toMatchObject({
      actions: ['rds:FailoverGlobalCluster', 'rds:SwitchoverGlobalCluster'],
      resources: [
        'arn:aws:rds::111122223333:global-cluster:tradepulse-global',
        'arn:aws:rds:us-west-2:111122223333:cluster:tradepulse-usw2',
      ],
    });
    expect(rolesHolding(template, 'rds:FailoverGlobalCluster')).toEqual(
      stepRoles(template, ['PromotePostgres']),
    );
    // Every role that may read a database secret reads only replicas in this region.
    const secretResources = identityPolicyStatements(template)
      .filter((s) => s.actions.includes('secretsmanager:GetSecretValue'))
      .flatMap((s) => s.resources);
    expect(secretResources.length).toBeGreaterThan(0);
    for (const arn of secretResources)
      expect(String(arn)).toMatch(/^arn:aws:secretsmanager:us-west-2:111122223333:secret:/);
    // The restored-store inspectors read this region's own database secret only.
    if (STEP_NAMES.includes('ValidatePostgresRestore')) {
      const restored = statementsOfStep(template, 'ValidatePostgresRestore').find(
        (s) => s.sid === 'RestoredDatabaseSecret',
      )!;
      expect(restored.resources).toEqual([
        'arn:aws:secretsmanager:us-west-2:111122223333:secret:tradepulse/usw2/dr-operator-AbCdEf',
      ]);
    }
  });

  test('traffic moves through ARC routing controls, with no Route 53 control-plane permission', () => {
    const template = variant.template(DR_REGION);
    expect(rolesHolding(template, 'route53-recovery-cluster:UpdateRoutingControlStates')).toEqual(
      stepRoles(template, ['CutoverTraffic']),
    );
    expect(rolesHolding(template, 'route53:ChangeResourceRecordSets')).toEqual([]);
    expect(rolesHolding(template, 'route53:GetChange')).toEqual([]);
  });

  test('without a VPC no step is placed in one', () => {
    const template = variant.template(DR_REGION);
    for (const [, fn] of ofType(template, 'AWS::Lambda::Function'))
      expect(fn.Properties.VpcConfig).toBeUndefined();
  });

  test.each(REGIONS)('the %s stack is statically stable too', (region) => {
    expect(staticStabilityViolations(variant.template(region).toJSON(), region, [...REGIONS])).toEqual([]);
  });
});

describe('snapshot', () => {
  test('the DR-region template (asset hashes and the topology document masked)', () => {
    const text = JSON.stringify(synthesized.template(DR_REGION).toJSON(), null, 1)
      .replace(/[0-9a-f]{64}(\.(zip|json))/g, '<asset-hash>$1')
      .replace(/"DR_TOPOLOGY": "(?:[^"\\]|\\.)*"/g, '"DR_TOPOLOGY": "<topology: asserted above>"');
    expect(JSON.parse(text)).toMatchSnapshot();
  });
});
