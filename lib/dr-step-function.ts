import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ISecurityGroup, ISubnet, IVpc } from 'aws-cdk-lib/aws-ec2';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing, type ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  TOPOLOGY_GZIP_VARIABLE,
  TOPOLOGY_VARIABLE,
  encodeTopologyForEnvironment,
} from '../lambdas/shared/aws-dependencies';
import type { Topology } from '../lambdas/shared/topology';
import { stepBundlingOptions } from './step-bundling';

/** The repository root: `lib/` sits directly under it. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The Lambda runtime the project targets (aws-local-stepfunctions and the local runner run on Node 22 too). */
export const STEP_RUNTIME = Runtime.NODEJS_22_X;

/** Lambda's limit on the total size of a function's environment variables. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/** Where a step that reaches PostgreSQL, Kafka or Redis runs. */
export interface StepNetwork {
  readonly vpc: IVpc;
  readonly subnets: readonly ISubnet[];
  readonly securityGroups: readonly ISecurityGroup[];
}

export interface DrStepFunctionProps {
  /** The step's name as the workflow uses it (`ValidateInput` for `${ValidateInputFunctionArn}`). */
  readonly stepName: string;
  /** The handler module, relative to `projectRoot` (lambdas/registry.ts `handlerEntry`); it exports `handler`. */
  readonly entry: string;
  /** The topology every step receives, as the `DR_TOPOLOGY` environment variable. */
  readonly topology: Topology;
  /** Least-privilege statements for what the step calls (lib/step-permissions.ts). @default none */
  readonly statements?: readonly PolicyStatement[];
  /** VPC placement, for steps that open connections to the data stores. @default not in a VPC */
  readonly network?: StepNetwork;
  /** Copy `data/sample.csv` (the DR validation dataset) beside the bundle, where the smoke harness reads it. @default false */
  readonly bundleValidationDataset?: boolean;
  /** More environment variables for the step's providers (e.g. the backup restore placement). @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Retention of the function's log group. @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
  /** Powertools log level (POWERTOOLS_LOG_LEVEL). @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** What happens to the log group when the stack is deleted. @default RemovalPolicy.RETAIN (run logs are evidence) */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Bundle the AWS SDK v3 instead of using the runtime's copy. @default false (the runtime's SDK, smaller bundles) */
  readonly bundleAwsSdk?: boolean;
  /** Layers the bundle needs at run time: the data-store drivers' (lib/driver-layer.ts), which every bundle leaves out. */
  readonly layers: readonly ILayerVersion[];
  /** Where package-lock.json, lambdas/ and data/ are. @default the repository root */
  readonly projectRoot?: string;
}

/**
 * One workflow step as a Lambda function with the project's defaults: Node.js 22 on ARM64,
 * an esbuild bundle (ESM, minified, source maps) built locally — never in Docker — the
 * Powertools environment, its own log group with retention, X-Ray tracing, a role holding
 * only the statements it is given, and VPC placement when it reaches the data stores.
 */
export class DrStepFunction extends Construct {
  readonly stepName: string;
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: DrStepFunctionProps) {
    super(scope, id);
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    const timeout = props.timeout ?? Duration.seconds(60);
    const memorySize = props.memorySize ?? 512;
    const entry = path.resolve(projectRoot, props.entry);

    if (!/^[A-Z][A-Za-z0-9]+$/.test(props.stepName)) {
      throw new Error(
        `DrStepFunction ${id}: stepName '${props.stepName}' must be PascalCase letters and digits`,
      );
    }
    if (!fs.existsSync(entry))
      throw new Error(`DrStepFunction ${props.stepName}: entry ${entry} does not exist`);
    if (timeout.toSeconds() < 1 || timeout.toSeconds() > 900) {
      throw new Error(
        `DrStepFunction ${props.stepName}: timeout must be between 1 and 900 seconds, not ${timeout.toSeconds()}`,
      );
    }
    if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240) {
      throw new Error(
        `DrStepFunction ${props.stepName}: memorySize must be a whole number of MB from 128 to 10240, not ${memorySize}`,
      );
    }
    if (props.network && (props.network.subnets.length === 0 || props.network.securityGroups.length === 0)) {
      throw new Error(
        `DrStepFunction ${props.stepName}: network needs at least one subnet and one security group`,
      );
    }
    const dataset = path.join(projectRoot, 'data', 'sample.csv');
    if (props.bundleValidationDataset && !fs.existsSync(dataset)) {
      throw new Error(
        `DrStepFunction ${props.stepName}: bundleValidationDataset is set but ${dataset} does not exist`,
      );
    }
    assertLocalEsbuild(projectRoot);

    const base: Record<string, string> = {
      ...props.environment,
      POWERTOOLS_SERVICE_NAME: 'tradepulse-dr',
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    };
    const sizeOf = (env: Record<string, string>) =>
      Object.entries(env).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    // The topology as JSON when it fits Lambda's 4 KB environment, else gzip+base64 (a larger topology,
    // e.g. managed databases with ARC); lambdas/shared/aws-dependencies.ts reads either.
    const plain = { ...base, [TOPOLOGY_VARIABLE]: JSON.stringify(props.topology) };
    const environment =
      sizeOf(plain) <= LAMBDA_ENVIRONMENT_LIMIT_BYTES
        ? plain
        : { ...base, [TOPOLOGY_GZIP_VARIABLE]: encodeTopologyForEnvironment(props.topology) };
    const environmentBytes = sizeOf(environment);
    if (environmentBytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
      throw new Error(
        `DrStepFunction ${props.stepName}: the environment is ${environmentBytes} bytes, over Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}; the topology is too large even compressed`,
      );
    }

    this.stepName = props.stepName;
    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `tradepulse-dr step ${props.stepName}: only what its adapters call`,
    });
    this.logGroup.grantWrite(this.role);
    if (props.network) {
      this.role.addToPolicy(
        new PolicyStatement({
          sid: 'LambdaVpcNetworkInterfaces',
          effect: Effect.ALLOW,
          // What Lambda needs to attach the function to the VPC (as in AWSLambdaVPCAccessExecutionRole);
          // EC2 offers no resource-level scoping for the Describe calls and Lambda validates the others on "*".
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }
    for (const statement of props.statements ?? []) this.role.addToPolicy(statement);

    this.function = new NodejsFunction(this, 'Function', {
      description: `tradepulse-dr step ${props.stepName} (${props.entry})`,
      entry,
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      runtime: STEP_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize,
      timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: Tracing.ACTIVE,
      environment,
      layers: [...props.layers],
      ...(props.network
        ? {
            vpc: props.network.vpc,
            vpcSubnets: { subnets: [...props.network.subnets] },
            securityGroups: [...props.network.securityGroups],
          }
        : {}),
      bundling: {
        ...stepBundlingOptions(props.bundleAwsSdk ?? false),
        ...(props.bundleValidationDataset
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) => [
                  `cp "${path.join(inputDir, 'data', 'sample.csv')}" "${path.join(outputDir, 'sample.csv')}"`,
                ],
              },
            }
          : {}),
      },
    });
  }
}

/** esbuild must resolve from the project, or CDK would quietly fall back to bundling in Docker. */
function assertLocalEsbuild(projectRoot: string): void {
  try {
    createRequire(path.join(projectRoot, 'package.json')).resolve('esbuild');
  } catch {
    throw new Error(
      `esbuild is not installed in ${projectRoot}: run \`npm ci\` (Lambda bundles are built locally; Docker bundling is not used)`,
    );
  }
}
