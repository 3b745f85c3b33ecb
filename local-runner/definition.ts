import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const STATE_MACHINES_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'state-machines',
);

const FUNCTION_ARN_VARIABLE = /^\$\{(\w+)FunctionArn\}$/;

export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Branches?: { StartAt: string; States: Record<string, AslState> }[];
  [field: string]: unknown;
}
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [field: string]: unknown;
}

/** The Lambda step a Task state runs: from `${<Name>FunctionArn}` in Resource or in lambda:invoke's FunctionName. */
export function stepFunctionOf(state: AslState): string | undefined {
  const candidates = [state.Resource, state.Parameters?.FunctionName];
  for (const value of candidates) {
    const match = typeof value === 'string' ? FUNCTION_ARN_VARIABLE.exec(value) : null;
    if (match) return match[1];
  }
  return undefined;
}

/** Every Task state, including those inside Parallel branches, by name. */
export function taskStates(definition: { States: Record<string, AslState> }): Map<string, AslState> {
  const found = new Map<string, AslState>();
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') found.set(name, state);
    for (const branch of state.Branches ?? []) for (const [n, s] of taskStates(branch)) found.set(n, s);
  }
  return found;
}

export interface LoadedWorkflow {
  definition: AslDefinition;
  /** Task state name → the Lambda step it runs. */
  stepOfTask: Map<string, string>;
}

/**
 * Reads a workflow from state-machines/ and fills its `${...}` substitutions the way CDK's
 * definitionSubstitutions does, with local placeholder ARNs (the runner binds every Task
 * to in-process code, so these ARNs are never called).
 */
export function loadWorkflow(
  name: string,
  region: string,
  extra: Record<string, string> = {},
): LoadedWorkflow {
  const text = fs.readFileSync(path.join(STATE_MACHINES_DIR, `${name}.asl.json`), 'utf8');
  const stepOfTask = new Map<string, string>();
  for (const [stateName, state] of taskStates(JSON.parse(text) as AslDefinition)) {
    const fn = stepFunctionOf(state);
    if (fn) stepOfTask.set(stateName, fn);
  }
  const filled = text.replace(/\$\{(\w+)\}/g, (whole, variable: string) => {
    if (extra[variable] !== undefined) return extra[variable]!;
    const fn = /^(\w+)FunctionArn$/.exec(variable);
    if (fn) return `arn:aws:lambda:${region}:000000000000:function:tradepulse-dr-local-${fn[1]}`;
    throw new Error(`${name}.asl.json: no local value for substitution ${whole}`);
  });
  return { definition: JSON.parse(filled) as AslDefinition, stepOfTask };
}
