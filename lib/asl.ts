import fs from 'node:fs';

/** What the CDK needs to know about a workflow file in `state-machines/` (read, never rewritten). */
export interface AslSummary {
  /** Every `${Name}` definition substitution the file uses. */
  readonly substitutions: readonly string[];
  /**
   * Per `${<Name>FunctionArn}` invoked as a plain Lambda task: the longest TimeoutSeconds of its
   * states, so the function's own timeout never cuts a step short of what the workflow allows.
   */
  readonly taskTimeoutSeconds: Readonly<Record<string, number>>;
  /** Function substitutions invoked with `lambda:invoke.waitForTaskToken` (their timeout is the token's, not the Lambda's). */
  readonly callbackFunctions: readonly string[];
}

interface AslState {
  Type?: string;
  Resource?: string;
  Parameters?: { FunctionName?: string };
  TimeoutSeconds?: number;
  Branches?: { States: Record<string, AslState> }[];
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
}

const SUBSTITUTION = /\$\{([A-Za-z0-9_]+)\}/g;
const variableOf = (value: string | undefined) => /^\$\{([A-Za-z0-9_]+)\}$/.exec(value ?? '')?.[1];

export function summarizeAsl(file: string): AslSummary {
  const text = fs.readFileSync(file, 'utf8');
  const substitutions = [...new Set([...text.matchAll(SUBSTITUTION)].map((m) => m[1]!))].sort();
  const definition = JSON.parse(text) as { States: Record<string, AslState> };
  const taskTimeoutSeconds: Record<string, number> = {};
  const callbackFunctions = new Set<string>();
  const visit = (states: Record<string, AslState>) => {
    for (const state of Object.values(states)) {
      if (state.Type === 'Task') {
        const direct = variableOf(state.Resource);
        const viaIntegration = variableOf(state.Parameters?.FunctionName);
        if (direct) {
          taskTimeoutSeconds[direct] = Math.max(taskTimeoutSeconds[direct] ?? 0, state.TimeoutSeconds ?? 60);
        } else if (viaIntegration && state.Resource?.endsWith('.waitForTaskToken')) {
          callbackFunctions.add(viaIntegration);
        } else if (viaIntegration) {
          taskTimeoutSeconds[viaIntegration] = Math.max(
            taskTimeoutSeconds[viaIntegration] ?? 0,
            state.TimeoutSeconds ?? 60,
          );
        }
      }
      for (const branch of state.Branches ?? []) visit(branch.States);
      if (state.ItemProcessor) visit(state.ItemProcessor.States);
      if (state.Iterator) visit(state.Iterator.States);
    }
  };
  visit(definition.States);
  return { substitutions, taskTimeoutSeconds, callbackFunctions: [...callbackFunctions].sort() };
}

/** `ValidateInput` → `ValidateInputFunctionArn`, the variable name the ASL uses for the step's function. */
export const functionArnVariable = (stepName: string) => `${stepName}FunctionArn`;
