import fs from 'node:fs/promises';
import { RDSClient } from '@aws-sdk/client-rds';
import { setTimeout as sleep } from 'node:timers/promises';
import { createArcClusterClients, type AwsClients } from './adapters/aws/clients';
import { ArcRoutingControlRouter } from './adapters/aws/arc-router';
import { DynamoDbLockStore } from './adapters/aws/dynamodb-lock';
import { DynamoDbSentNotificationLedger } from './adapters/aws/dynamodb-notification-ledger';
import { DynamoDbRunRecordStore } from './adapters/aws/dynamodb-run-records';
import { EventBridgePublisher } from './adapters/aws/eventbridge-publisher';
import { Route53WeightedRouter } from './adapters/aws/route53-router';
import { S3EvidenceStore } from './adapters/aws/s3-evidence-store';
import { SnsNotifier } from './adapters/aws/sns-notifier';
import { SsmTradingFlags } from './adapters/aws/ssm-flags';
import type {
  KafkaAdapter,
  PostgresAdapter,
  RedisAdapter,
  TradingFlags,
  TrafficRouter,
} from './adapters/contracts';
import { KafkajsAdapter } from './adapters/kafka/kafkajs-adapter';
import { createPostgresAdapter, type PostgresAdapterOptions } from './adapters/postgres';
import { IoredisAdapter } from './adapters/redis/ioredis-adapter';
import { S3SnapshotSource } from './adapters/redis/s3-snapshot-source';
import type { AcknowledgedJournal, DrDependencies } from './dependencies';
import { InvalidInputError } from './errors';
import type { Topology } from './topology';
import { postgresSmokeSink, type SmokeSink } from '../run-smoke-harness/postgres-smoke-sink';
import type { SmokeDependencies } from '../run-smoke-harness/logic';

export type AllDependencies = DrDependencies & SmokeDependencies;

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
}

/**
 * Long-lived adapters (database connections) for one process: built once, reused by every
 * step invocation. Per-run adapters (notifier, router) are made by `forRun`.
 */
export class DependencyPool {
  private readonly postgresByRegion = new Map<string, PostgresAdapter>();
  private readonly redisByRegion = new Map<string, RedisAdapter>();
  private readonly kafkaByRoute = new Map<string, KafkaAdapter>();

  constructor(readonly options: BuildOptions) {}

  private regionOf(region: string) {
    const found = this.options.topology.regions[region];
    if (!found) throw new InvalidInputError(`region '${region}' is not in the topology`);
    return found;
  }

  postgres(region: string): PostgresAdapter {
    let adapter = this.postgresByRegion.get(region);
    if (!adapter) {
      const topology = this.regionOf(region).postgres;
      const rds = topology.kind === 'self-managed' ? {} : { rds: new RDSClient({ region }) };
      adapter = createPostgresAdapter(topology, { ...rds, ...this.options.postgres });
      this.postgresByRegion.set(region, adapter);
    }
    return adapter;
  }

  redis(region: string): RedisAdapter {
    let adapter = this.redisByRegion.get(region);
    if (!adapter) {
      const { redis, aws } = this.regionOf(region);
      adapter = new IoredisAdapter({
        host: redis.host,
        port: redis.port,
        snapshots: new S3SnapshotSource({ s3: this.options.aws(region).s3, bucket: aws.evidenceBucket }),
      });
      this.redisByRegion.set(region, adapter);
    }
    return adapter;
  }

  kafka(source: string, target: string): KafkaAdapter {
    const key = `${source}->${target}`;
    let adapter = this.kafkaByRoute.get(key);
    if (!adapter) {
      const { kafka } = this.options.topology;
      adapter = new KafkajsAdapter({
        sourceBrokers: this.regionOf(source).kafka.brokers,
        targetBrokers: this.regionOf(target).kafka.brokers,
        sourceAlias: kafka.sourceAliases[source]!,
        targetAlias: kafka.sourceAliases[target]!,
        criticalTopics: kafka.criticalTopics,
      });
      this.kafkaByRoute.set(key, adapter);
    }
    return adapter;
  }

  flags(region: string): TradingFlags {
    return new SsmTradingFlags({
      ssm: this.options.aws(region).ssm,
      parameters: this.regionOf(region).aws.parameters,
    });
  }

  router(runId: string): TrafficRouter {
    const { dns } = this.options.topology;
    if (dns.method === 'arc-routing-control' && dns.arc) {
      return new ArcRoutingControlRouter({
        clusters: createArcClusterClients(dns.arc.clusterEndpoints),
        routingControlArns: dns.arc.routingControlArns,
      });
    }
    return new Route53WeightedRouter({ route53: this.options.aws(this.options.region).route53, dns, runId });
  }

  smokeSink(region: string): SmokeSink {
    const pg = this.regionOf(region).postgres;
    return postgresSmokeSink(
      { host: pg.host, port: pg.port, database: pg.database, user: pg.operatorUser },
      pg.applicationUser,
    );
  }

  /** The dependencies one step invocation of run `runId` gets. */
  forRun(runId: string): AllDependencies {
    const { topology, region } = this.options;
    const own = this.regionOf(region);
    const clients = this.options.aws(region);
    return {
      topology,
      region,
      lock: new DynamoDbLockStore({ dynamodb: clients.dynamodb, tableName: own.aws.lockTable }),
      runRecords: new DynamoDbRunRecordStore({ dynamodb: clients.dynamodb, tableName: own.aws.lockTable }),
      notifier: new SnsNotifier({
        sns: clients.sns,
        topicArn: own.aws.snsTopicArn,
        runId,
        ledger: new DynamoDbSentNotificationLedger({
          dynamodb: clients.dynamodb,
          tableName: own.aws.lockTable,
          runId,
        }),
      }),
      events: new EventBridgePublisher({
        eventBridge: clients.eventBridge,
        eventBusName: own.aws.eventBusName,
      }),
      flags: (r) => this.flags(r),
      router: this.router(runId),
      evidence: new S3EvidenceStore({ s3: clients.s3, bucket: own.aws.evidenceBucket }),
      postgres: (r) => this.postgres(r),
      kafka: (s, t) => this.kafka(s, t),
      redis: (r) => this.redis(r),
      ...(this.options.journal ? { journal: this.options.journal } : {}),
      sleep: (ms) => sleep(ms),
      dataset: async () => ({
        name: this.options.datasetFile,
        csv: await fs.readFile(this.options.datasetFile, 'utf8'),
      }),
      smokeSink: (r) => this.smokeSink(r),
    };
  }

  async close(): Promise<void> {
    const all = [
      ...this.postgresByRegion.values(),
      ...this.redisByRegion.values(),
      ...this.kafkaByRoute.values(),
    ];
    await Promise.allSettled(all.map((a) => a.close()));
    this.postgresByRegion.clear();
    this.redisByRegion.clear();
    this.kafkaByRoute.clear();
  }
}

/** The run id a step event carries, if any (ValidateInput's event carries the execution name). */
export function runIdOf(event: unknown): string {
  const e = event as { run?: { runId?: string }; execution?: { name?: string } } | null;
  return e?.run?.runId ?? e?.execution?.name ?? 'unknown-run';
}
