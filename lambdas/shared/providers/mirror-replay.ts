import { KafkajsMirrorReplay } from '../adapters/kafka/mirror-replay';
import type { BackupValidationDependencies } from '../backup-validation/dependencies';
import { defineProvider, regionOf } from './provider';
/** `mirrorReplay`: a replay of a region's mirrored topics (its Kafka brokers from the topology). */
export const mirrorReplayProvider = defineProvider<Pick<BackupValidationDependencies, 'mirrorReplay'>>(
  'mirrorReplay',
  (ctx) => {
    // A fresh reader per use: it owns one admin connection, which the step closes.
    const mirrorReplay = (region: string) =>
      new KafkajsMirrorReplay({ brokers: regionOf(ctx.topology, region).kafka.brokers });
    return { forRun: () => ({ mirrorReplay }) };
  },
);
