import { awsClientConfig, type AwsClientSource } from './adapters/aws/client-config';
import type { AwsClients } from './adapters/aws/clients';
import type {
  KafkaAdapter,
  PostgresAdapter,
  RedisAdapter,
  RestoreTargets,
  TradingFlags,
  TrafficRouter,
} from './adapters/contracts';
import type { PostgresAdapterOptions } from './adapters/postgres';
import type { SelfManagedProcessControl } from './adapters/postgres/rebuild-host';
import type { BackupReader } from './backup/contracts';
import type { AcknowledgedJournal } from './dependencies';
import type { Topology } from './topology';
import type { SmokeSink } from '../run-smoke-harness/postgres-smoke-sink';
import {
  ALL_PROVIDERS,
  flagsProvider,
  kafkaProvider,
  postgresProvider,
  redisProvider,
  routerProvider,
  smokeSinkProvider,
} from './providers/all';
import {
  OpenedProviders,
  type AllDependencies,
  type OpenProvider,
  type Provided,
  type ProviderContext,
} from './providers/provider';

export { runIdOf, type AllDependencies } from './providers/provider';

export interface BuildOptions {
  topology: Topology;
  /** The orchestrator's region: its control-plane resources are the ones used. */
  region: string;
  /** SDK clients per region (created once by the caller and reused). */
  aws(region: string): AwsClients;
  /** Extra options for the PostgreSQL adapters (passwords, TLS). */
  postgres?: PostgresAdapterOptions;
  /** The DR validation dataset file. */
  datasetFile: string;
  journal?: AcknowledgedJournal;
  /** Control of self-managed stores' processes (sandboxProcessControl), for the failback rebuild steps. */
  processControl?: SelfManagedProcessControl;
  /** Disposable restore targets (the sandbox's), for the backup-validation steps. */
  restoreTargets?: RestoreTargets;
  /** The backups to validate (built over the sandbox's KMS by the local runner). */
  backupReader?: BackupReader;
}

/**
 * Every step's dependencies for one process (the local runner, the drill, integration
 * tests): all the providers a deployed step picks from, opened once over the caller's SDK
 * clients. Long-lived adapters (database connections) are reused by every invocation.
 */
export class DependencyPool {
  private readonly providers: OpenedProviders<Provided<typeof ALL_PROVIDERS>>;
  private readonly opened = new Map<string, OpenProvider<object>>();

  constructor(readonly options: BuildOptions) {
    const rds = new Map<string, AwsClients[keyof AwsClients]>();
    // The caller's clients for the services it configured; RDS (never in the sandbox) from the plain settings.
    const aws: AwsClientSource = (region, kind, make) => {
      if (kind !== 'rds') return options.aws(region)[kind as Exclude<typeof kind, 'rds'>] as never;
      if (!rds.has(region)) rds.set(region, make(awsClientConfig({ region })));
      return rds.get(region) as never;
    };
    const context: ProviderContext = {
      topology: options.topology,
      region: options.region,
      aws,
      datasetFile: options.datasetFile,
      ...(options.postgres ? { postgres: options.postgres } : {}),
      ...(options.journal ? { journal: options.journal } : {}),
      ...(options.processControl ? { processControl: options.processControl } : {}),
      ...(options.restoreTargets ? { restoreTargets: options.restoreTargets } : {}),
      ...(options.backupReader ? { backupReader: options.backupReader } : {}),
    };
    this.providers = new OpenedProviders(context, ALL_PROVIDERS);
    ALL_PROVIDERS.forEach((p, i) => this.opened.set(p.name, this.providers.opened[i]!));
  }

  private slice<P>(provider: { name: string }): P {
    return this.opened.get(provider.name)!.forRun('pool') as P;
  }

  postgres(region: string): PostgresAdapter {
    return this.slice<Pick<AllDependencies, 'postgres'>>(postgresProvider).postgres(region);
  }

  redis(region: string): RedisAdapter {
    return this.slice<Pick<AllDependencies, 'redis'>>(redisProvider).redis(region);
  }

  kafka(source: string, target: string): KafkaAdapter {
    return this.slice<Pick<AllDependencies, 'kafka'>>(kafkaProvider).kafka(source, target);
  }

  flags(region: string): TradingFlags {
    return this.slice<Pick<AllDependencies, 'flags'>>(flagsProvider).flags(region);
  }

  router(runId: string): TrafficRouter {
    return (this.opened.get(routerProvider.name)!.forRun(runId) as Pick<AllDependencies, 'router'>).router;
  }

  smokeSink(region: string): SmokeSink {
    return this.slice<Pick<AllDependencies, 'smokeSink'>>(smokeSinkProvider).smokeSink(region);
  }

  /** The dependencies one step invocation of run `runId` gets. */
  forRun(runId: string): AllDependencies {
    return this.providers.forRun(runId);
  }

  async close(): Promise<void> {
    await this.providers.close();
  }
}
