import { setTimeout as sleep } from 'node:timers/promises';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsClientSource } from '../adapters/aws/client-config';
import type { PostgresAdapterOptions } from '../adapters/postgres';
import type { SelfManagedProcessControl } from '../adapters/postgres/rebuild-host';
import type { AcknowledgedJournal, DrDependencies, RebuildDependencies } from '../dependencies';
import { InvalidInputError } from '../errors';
import type { RegionTopology, Topology } from '../topology';
import type { BackupValidationDependencies } from '../backup-validation/dependencies';
import type { RestoreTargets } from '../adapters/contracts';
import type { BackupReader, BackupWriter } from '../backup/contracts';
import type { BackupTakingDependencies } from '../backup/dependencies';
import type { SmokeDependencies } from '../../run-smoke-harness/logic';

/** Everything any step may be given: the DR dependencies and the smoke harness's. */
export type AllDependencies = DrDependencies &
  SmokeDependencies &
  RebuildDependencies &
  BackupValidationDependencies &
  BackupTakingDependencies;

/** What every step gets without asking: the topology, the orchestrator's region, a sleep, the drill's journal. */
export type BaseDependencies = Pick<DrDependencies, 'topology' | 'region' | 'sleep' | 'journal'>;

/** What a provider builds its adapters from: one per process (Lambda execution environment, drill). */
export interface ProviderContext {
  readonly topology: Topology;
  /** The orchestrator's region: its control-plane resources are the ones used. */
  readonly region: string;
  /** SDK clients by region and kind, created once and reused. */
  readonly aws: AwsClientSource;
  /** Extra options for the PostgreSQL adapters (passwords, TLS, Aurora promotion); they win over the derived ones. */
  readonly postgres?: PostgresAdapterOptions;
  /**
   * Secrets Manager of the orchestrator's region, where the database passwords the topology
   * names (`passwordSecretArn`) are read. @default a client for `region`, created on first use
   */
  readonly secretsManager?: SecretsManagerClient;
  /** The DR validation dataset file (the smoke harness). */
  readonly datasetFile?: string;
  /** The load generator's acknowledged-writes journal (sandbox drills only). */
  readonly journal?: AcknowledgedJournal;
  /** Control of self-managed stores' processes (the sandbox's), for the failback rebuild steps. */
  readonly processControl?: SelfManagedProcessControl;
  /** Disposable restore targets (the sandbox's) for backup validation; @default temporary RDS instances. */
  readonly restoreTargets?: RestoreTargets;
  /** The backups to validate (the local runner's, over the sandbox's KMS); @default the region's, see backupReaderFor. */
  readonly backupReader?: BackupReader;
  /** The backup writer (the sandbox CLI's, which runs pg_basebackup); @default see backupWriterFor. */
  readonly backupWriter?: BackupWriter;
}

/** A provider opened for one process: long-lived state (connections) lives here, per-run objects come from `forRun`. */
export interface OpenProvider<P> {
  /** `event` is the step's raw event, for providers whose adapters depend on the run (Aurora promotion). */
  forRun(runId: string, event?: unknown): P;
  close?(): Promise<void>;
}

/**
 * Builds some of a step's dependencies (`P`, a slice of AllDependencies). Each provider is
 * its own module importing only the adapters and SDK clients it needs, so a step's handler
 * that lists its providers bundles only those; the local runner's DependencyPool opens all.
 */
export interface Provider<P extends Partial<AllDependencies>> {
  readonly name: string;
  open(context: ProviderContext): OpenProvider<P>;
}

export function defineProvider<P extends Partial<AllDependencies>>(
  name: string,
  open: (context: ProviderContext) => OpenProvider<P>,
): Provider<P> {
  return { name, open };
}

/** The intersection of what a list of providers provides. */
export type Provided<C extends readonly Provider<object>[]> = C extends readonly [
  Provider<infer P>,
  ...infer Rest extends readonly Provider<object>[],
]
  ? P & Provided<Rest>
  : unknown;

/** The topology entry of `region`, or InvalidInputError naming it. */
export function regionOf(topology: Topology, region: string): RegionTopology {
  const found = topology.regions[region];
  if (!found) throw new InvalidInputError(`region '${region}' is not in the topology`);
  return found;
}

/** Providers opened together for one process; `forRun` hands a step invocation its dependencies. */
export class OpenedProviders<P> {
  /** Each provider opened, in the order given. */
  readonly opened: readonly OpenProvider<object>[];

  constructor(
    readonly context: ProviderContext,
    providers: readonly Provider<object>[],
  ) {
    regionOf(context.topology, context.region);
    this.opened = providers.map((p) => p.open(context));
  }

  forRun(runId: string, event?: unknown): BaseDependencies & P {
    const { topology, region, journal } = this.context;
    const base: BaseDependencies = {
      topology,
      region,
      sleep: (ms) => sleep(ms),
      ...(journal ? { journal } : {}),
    };
    return Object.assign(base, ...this.opened.map((o) => o.forRun(runId, event))) as BaseDependencies & P;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.opened.map((o) => o.close?.()));
  }
}

export function openProviders<const C extends readonly Provider<object>[]>(
  context: ProviderContext,
  ...providers: C
): OpenedProviders<Provided<C>> {
  return new OpenedProviders<Provided<C>>(context, providers);
}

/** The run id a step event carries, if any (ValidateInput's event carries the execution name). */
export function runIdOf(event: unknown): string {
  const e = event as { run?: { runId?: string }; execution?: { name?: string } } | null;
  return e?.run?.runId ?? e?.execution?.name ?? 'unknown-run';
}
