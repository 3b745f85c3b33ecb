import type { KafkaAdapter } from '../adapters/contracts';
import { KafkajsAdapter } from '../adapters/kafka/kafkajs-adapter';
import { defineProvider, regionOf } from './provider';
import type { DrDependencies } from '../dependencies';

/** `kafka`: one adapter per replication route (`source->target`) for the life of the process. */
export const kafkaProvider = defineProvider<Pick<DrDependencies, 'kafka'>>('kafka', (ctx) => {
  const adapters = new Map<string, KafkaAdapter>();
  const kafka = (source: string, target: string): KafkaAdapter => {
    const key = `${source}->${target}`;
    let adapter = adapters.get(key);
    if (!adapter) {
      const { kafka: settings } = ctx.topology;
      adapter = new KafkajsAdapter({
        sourceBrokers: regionOf(ctx.topology, source).kafka.brokers,
        targetBrokers: regionOf(ctx.topology, target).kafka.brokers,
        sourceAlias: settings.sourceAliases[source]!,
        targetAlias: settings.sourceAliases[target]!,
        criticalTopics: settings.criticalTopics,
      });
      adapters.set(key, adapter);
    }
    return adapter;
  };
  return {
    forRun: () => ({ kafka }),
    async close() {
      await Promise.allSettled([...adapters.values()].map((a) => a.close()));
      adapters.clear();
    },
  };
});
