import * as z from 'zod';
import type { DrDependencies } from '../shared/dependencies';
import { RunSchema } from '../shared/run';
import { defineStep } from '../shared/step';
import type { SmokeSink } from './postgres-smoke-sink';
import { crossoverSignals, parseTicks } from './signals';

const InputSchema = z.object({ run: RunSchema }).strict();

export interface SmokeDependencies {
  /** The DR validation dataset (data/sample.csv, or a region-specific snapshot). */
  dataset(): Promise<{ name: string; csv: string }>;
  smokeSink(region: string): SmokeSink;
}

/**
 * The deterministic smoke harness: ingest the validation dataset, derive signals, and push
 * the resulting orders through the new primary's order path as the application role (in
 * a transaction that is rolled back, so the ledger stays exactly as promoted).
 */
export const runSmokeHarnessStep = defineStep({
  name: 'run-smoke-harness',
  input: InputSchema,
  async run({ run }, deps: SmokeDependencies & Pick<DrDependencies, 'sleep'>) {
    const dataset = await deps.dataset();
    const ticks = parseTicks(dataset.csv, dataset.name);
    const signals = crossoverSignals(ticks);
    const observed = { dataset: dataset.name, ticks: ticks.length, signals: signals.length };
    if (run.dryRun) {
      return {
        action: 'dry-run' as const,
        observed,
        changes: [`would place ${signals.length} smoke orders on ${run.targetRegion} and roll them back`],
        result: { passed: true, ...observed },
      };
    }
    const placed = await deps.smokeSink(run.targetRegion).placeOrdersAndRollBack(run.runId, signals);
    const passed =
      signals.length > 0 &&
      placed.ordersWritten === signals.length &&
      placed.ordersReadBack === signals.length;
    return {
      action: 'observed' as const,
      observed: { ...observed, ...placed },
      changes: [],
      result: {
        passed,
        ...observed,
        ...placed,
        ...(passed
          ? {}
          : {
              failure: `expected ${signals.length} smoke orders, wrote ${placed.ordersWritten}, read back ${placed.ordersReadBack}`,
            }),
      },
    };
  },
});
