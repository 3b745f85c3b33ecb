import fs from 'node:fs';
import path from 'node:path';
import { STEP_FUNCTIONS, type StepFunctionName } from '../lambdas/registry';
import { functionArnVariable, summarizeAsl, type AslSummary } from './asl';

/** What an orchestrator stack does with a workflow beyond deploying it. */
export type WorkflowRole = 'failover' | 'backup-validation' | 'failback';

/** One workflow of `state-machines/`, as the orchestrator stack deploys it. */
export interface WorkflowSpec {
  /** Construct id and output prefix, e.g. `Failover` → output `FailoverStateMachineArn`. */
  readonly id: string;
  /** The ASL file, relative to the project root. */
  readonly file: string;
  readonly role: WorkflowRole;
  /** What the workflow is for (the stack output's description). */
  readonly description: string;
  /** The stack fails when the file is missing; an optional workflow is deployed once its file exists. */
  readonly required: boolean;
}

/**
 * Every workflow the orchestrator deploys, one DrWorkflow each, sharing one Lambda function
 * per step. The failover is required; backup validation (issue 5) and failback (issue 7)
 * are deployed as soon as their ASL files are in `state-machines/`.
 */
export const DR_WORKFLOWS: readonly WorkflowSpec[] = [
  {
    id: 'Failover',
    file: 'state-machines/failover.asl.json',
    role: 'failover',
    description: 'Start a failover or drill into this region here (console or the drill CLI)',
    required: true,
  },
  {
    id: 'BackupValidation',
    file: 'state-machines/backup-validation.asl.json',
    role: 'backup-validation',
    description: 'The scheduled backup validation of this region (started by EventBridge Scheduler)',
    required: false,
  },
  {
    id: 'Failback',
    file: 'state-machines/failback.asl.json',
    role: 'failback',
    description: 'Return to the primary region (planned switchover) from here',
    required: false,
  },
];

/** A workflow whose file was found and read. */
export interface LoadedWorkflow {
  readonly spec: WorkflowSpec;
  /** Absolute path of the ASL file. */
  readonly definitionFile: string;
  readonly asl: AslSummary;
  /** The registered steps the file invokes (`${<Step>FunctionArn}`), in registry order. */
  readonly steps: readonly StepFunctionName[];
  /** Substitutions that are not step functions (resolved by the stack from its own resources). */
  readonly otherSubstitutions: readonly string[];
}

const STEP_NAMES = Object.keys(STEP_FUNCTIONS) as StepFunctionName[];

/** An optional workflow whose file exists but cannot be deployed yet, and why. */
export interface SkippedWorkflow {
  readonly spec: WorkflowSpec;
  readonly reason: string;
}

export interface WorkflowSelection {
  readonly workflows: LoadedWorkflow[];
  /** Optional workflows left out, each with the reason (the stack reports them as synth warnings). */
  readonly skipped: SkippedWorkflow[];
}

/**
 * The workflows to deploy from `projectRoot`: every required one and every optional one whose
 * file exists and is complete — each `${<Name>FunctionArn}` a step registered in
 * lambdas/registry.ts, and each of those steps `deployable` (it has its permissions). A
 * required workflow that is missing or incomplete is an error naming the file and the
 * variables; an incomplete optional one (still being written) is skipped with its reason.
 */
export function selectWorkflows(
  projectRoot: string,
  specs: readonly WorkflowSpec[] = DR_WORKFLOWS,
  deployable: (step: StepFunctionName) => boolean = () => true,
): WorkflowSelection {
  const ids = new Set<string>();
  const loaded: LoadedWorkflow[] = [];
  const skipped: SkippedWorkflow[] = [];
  for (const spec of specs) {
    if (!/^[A-Z][A-Za-z0-9]+$/.test(spec.id))
      throw new Error(`workflow id '${spec.id}' must be PascalCase letters and digits`);
    if (ids.has(spec.id)) throw new Error(`workflow id '${spec.id}' is used twice`);
    ids.add(spec.id);
    const definitionFile = path.resolve(projectRoot, spec.file);
    if (!fs.existsSync(definitionFile)) {
      if (spec.required) throw new Error(`workflow ${spec.id}: ${definitionFile} does not exist`);
      continue;
    }
    const asl = summarizeAsl(definitionFile);
    const functionVariables = asl.substitutions.filter((s) => s.endsWith('FunctionArn'));
    const unknown = functionVariables.filter((v) => !STEP_NAMES.some((n) => functionArnVariable(n) === v));
    const steps = STEP_NAMES.filter((n) => functionVariables.includes(functionArnVariable(n)));
    const withoutPermissions = steps.filter((n) => !deployable(n));
    const reason =
      unknown.length > 0
        ? `${spec.file} invokes \${${unknown.join('}, ${')}}, not steps registered in lambdas/registry.ts STEP_FUNCTIONS`
        : withoutPermissions.length > 0
          ? `${spec.file} invokes ${withoutPermissions.join(', ')}, which have no entry in lib/step-capabilities.ts STEP_CAPABILITIES (their permissions are unknown)`
          : undefined;
    if (reason) {
      if (spec.required) throw new Error(`workflow ${spec.id}: ${reason}`);
      skipped.push({ spec, reason });
      continue;
    }
    loaded.push({
      spec,
      definitionFile,
      asl,
      steps,
      otherSubstitutions: asl.substitutions.filter((s) => !functionVariables.includes(s)),
    });
  }
  if (loaded.filter((w) => w.spec.role === 'failover').length !== 1)
    throw new Error('exactly one failover workflow must be deployed');
  return { workflows: loaded, skipped };
}

/** The deployable workflows (see selectWorkflows), with every registered step deployable. */
export function loadWorkflows(
  projectRoot: string,
  specs: readonly WorkflowSpec[] = DR_WORKFLOWS,
  deployable?: (step: StepFunctionName) => boolean,
): LoadedWorkflow[] {
  return selectWorkflows(projectRoot, specs, deployable).workflows;
}

/**
 * How long a step's function may run: the longest TimeoutSeconds of its plain Task states
 * over every workflow (capped at Lambda's 900 s); a function only ever invoked as a
 * callback (waitForTaskToken) hands the token over and gets 60 s.
 */
export function functionTimeoutSeconds(step: StepFunctionName, workflows: readonly LoadedWorkflow[]): number {
  const variable = functionArnVariable(step);
  const plain = workflows
    .map((w) => w.asl.taskTimeoutSeconds[variable])
    .filter((s): s is number => typeof s === 'number');
  return Math.min(plain.length > 0 ? Math.max(...plain) : 60, 900);
}
