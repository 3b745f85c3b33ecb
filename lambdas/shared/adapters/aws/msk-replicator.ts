/**
 * Cross-region Kafka replication on AWS as a MirrorControl: Amazon MSK Replicator. A
 * replicator lives in its target cluster's region and copies the critical topics from the
 * source cluster, with consumer-group offset sync, so reversing replication for a failback
 * is: delete the replicator that copies into the current primary (it lives in the current
 * primary's region), create one in the old primary's region that copies from the current
 * primary, wait for it to run.
 *
 * Topics are named `<source cluster alias>.<topic>` on the target (PREFIXED_WITH_SOURCE_CLUSTER_ALIAS,
 * MSK's default and the MirrorMaker 2 convention the Kafka adapter expects); the alias is MSK's,
 * so the topology's `kafka.sourceAliases` must name it. MSK Replicator commits the translated
 * group offsets on the target itself (SynchroniseConsumerGroupOffsets) and writes no MirrorMaker 2
 * checkpoints topic.
 */
import {
  CreateReplicatorCommand,
  DeleteReplicatorCommand,
  DescribeReplicatorCommand,
  ListReplicatorsCommand,
  type KafkaClient,
  type ReplicatorSummary,
} from '@aws-sdk/client-kafka';
import { InvalidInputError, NotReadyYetError } from '../../errors';
import type { MirrorControl, MirrorFlow } from '../contracts';
import { awsCall, awsErrorName } from './aws-call';

export interface MskClusterSettings {
  readonly clusterArn: string;
  /** The cluster's VPC subnets and security groups the replicator connects through. */
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  /** IAM role MSK Replicator assumes in this region (when it is the target). */
  readonly serviceExecutionRoleArn: string;
}

export interface MskReplicatorMirrorControlOptions {
  /** The MSK (Kafka) API client of a region. */
  readonly kafka: (region: string) => KafkaClient;
  /** Each region's MSK cluster. */
  readonly clusters: Readonly<Record<string, MskClusterSettings>>;
  readonly topics: string[];
  /** Replicators this adapter manages are named `<prefix><source>-to-<target>`. @default 'tradepulse-dr-' */
  readonly namePrefix?: string;
  /** Bound on waiting for a replicator to run; past it NotReadyYetError and a retry resumes. @default 900000 */
  readonly timeoutMs?: number;
  /** @default 15000 */
  readonly pollIntervalMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const STATES: Record<string, MirrorFlow['state']> = {
  RUNNING: 'running',
  CREATING: 'starting',
  UPDATING: 'starting',
  DELETING: 'stopped',
  FAILED: 'failed',
};

const MECHANISM = 'MSK Replicator';

export class MskReplicatorMirrorControl implements MirrorControl {
  private readonly prefix: string;

  constructor(private readonly opts: MskReplicatorMirrorControlOptions) {
    this.prefix = opts.namePrefix ?? 'tradepulse-dr-';
    if (Object.keys(opts.clusters).length < 2)
      throw new InvalidInputError('MSK Replicator needs the MSK clusters of at least two regions');
  }

  replicatorName(source: string, target: string): string {
    return `${this.prefix}${source}-to-${target}`;
  }

  private cluster(region: string): MskClusterSettings {
    const found = this.opts.clusters[region];
    if (!found) throw new InvalidInputError(`no MSK cluster configured for region ${region}`);
    return found;
  }

  private regionOfCluster(arn: string | undefined): string | undefined {
    return Object.entries(this.opts.clusters).find(([, c]) => c.clusterArn === arn)?.[0];
  }

  private toFlow(summary: ReplicatorSummary, home: string): MirrorFlow | null {
    const clusters = summary.KafkaClustersSummary ?? [];
    const info = summary.ReplicationInfoSummaryList?.[0];
    const byAlias = (alias: string | undefined) =>
      this.regionOfCluster(
        clusters.find((c) => c.KafkaClusterAlias === alias)?.AmazonMskCluster?.MskClusterArn,
      );
    const source = byAlias(info?.SourceKafkaClusterAlias);
    const target = byAlias(info?.TargetKafkaClusterAlias) ?? home;
    if (!source) return null;
    return {
      sourceRegion: source,
      targetRegion: target,
      state: STATES[summary.ReplicatorState ?? ''] ?? 'failed',
      mechanism: MECHANISM,
      mirroredTopics: this.opts.topics.map((t) => `${info?.SourceKafkaClusterAlias ?? source}.${t}`),
      detail: { replicatorArn: summary.ReplicatorArn, replicatorName: summary.ReplicatorName, home },
    };
  }

  async flows(): Promise<MirrorFlow[]> {
    const flows: MirrorFlow[] = [];
    for (const region of Object.keys(this.opts.clusters)) {
      let next: string | undefined;
      do {
        const out = await awsCall(() =>
          this.opts
            .kafka(region)
            .send(new ListReplicatorsCommand({ ReplicatorNameFilter: this.prefix, NextToken: next })),
        );
        for (const summary of out.Replicators ?? []) {
          if (!summary.ReplicatorName?.startsWith(this.prefix) || summary.IsReplicatorReference) continue;
          if (flows.some((f) => f.detail?.replicatorArn === summary.ReplicatorArn)) continue;
          const flow = this.toFlow(summary, region);
          if (flow) flows.push(flow);
        }
        next = out.NextToken;
      } while (next);
    }
    return flows;
  }

  async replicate(sourceRegion: string, targetRegion: string) {
    if (sourceRegion === targetRegion)
      throw new InvalidInputError(`cannot mirror ${sourceRegion} into itself`);
    const source = this.cluster(sourceRegion);
    const target = this.cluster(targetRegion);
    const before = await this.flows();
    const wanted = before.find((f) => f.sourceRegion === sourceRegion && f.targetRegion === targetRegion);
    const others = before.filter((f) => f !== wanted && f.state !== 'stopped');
    if (wanted?.state === 'running' && others.length === 0)
      return { alreadyDone: true, stopped: [], started: null, flow: wanted };

    const stopped: MirrorFlow[] = [];
    for (const flow of others) {
      const home = String(flow.detail?.home);
      try {
        await awsCall(() =>
          this.opts
            .kafka(home)
            .send(new DeleteReplicatorCommand({ ReplicatorArn: String(flow.detail?.replicatorArn) })),
        );
      } catch (err) {
        if (awsErrorName(err) !== 'NotFoundException') throw err;
      }
      stopped.push({ ...flow, state: 'stopped' });
    }
    let arn = wanted?.state === 'failed' ? undefined : (wanted?.detail?.replicatorArn as string | undefined);
    if (wanted?.state === 'stopped')
      throw new NotReadyYetError(
        `MSK Replicator ${String(wanted.detail?.replicatorName)} is being deleted; a new one can be created once it is gone`,
        { flow: wanted },
      );
    if (wanted?.state === 'failed')
      throw new NotReadyYetError(
        `MSK Replicator ${String(wanted.detail?.replicatorName)} is FAILED: delete it or look at its StateInfo`,
        { flow: wanted },
      );
    if (!arn) {
      const vpc = (c: MskClusterSettings) => ({
        SubnetIds: c.subnetIds,
        SecurityGroupIds: c.securityGroupIds,
      });
      const out = await awsCall(() =>
        this.opts.kafka(targetRegion).send(
          new CreateReplicatorCommand({
            ReplicatorName: this.replicatorName(sourceRegion, targetRegion),
            Description: `tradepulse-dr: ${sourceRegion} → ${targetRegion} (failback)`,
            ServiceExecutionRoleArn: target.serviceExecutionRoleArn,
            KafkaClusters: [
              { AmazonMskCluster: { MskClusterArn: source.clusterArn }, VpcConfig: vpc(source) },
              { AmazonMskCluster: { MskClusterArn: target.clusterArn }, VpcConfig: vpc(target) },
            ],
            ReplicationInfoList: [
              {
                SourceKafkaClusterArn: source.clusterArn,
                TargetKafkaClusterArn: target.clusterArn,
                TargetCompressionType: 'NONE',
                TopicReplication: {
                  TopicsToReplicate: this.opts.topics.map((t) => `^${t.replace(/[.]/g, '\\.')}$`),
                  CopyTopicConfigurations: true,
                  CopyAccessControlListsForTopics: true,
                  DetectAndCopyNewTopics: true,
                  StartingPosition: { Type: 'EARLIEST' },
                  TopicNameConfiguration: { Type: 'PREFIXED_WITH_SOURCE_CLUSTER_ALIAS' },
                },
                ConsumerGroupReplication: {
                  ConsumerGroupsToReplicate: ['.*'],
                  SynchroniseConsumerGroupOffsets: true,
                  DetectAndCopyNewConsumerGroups: true,
                },
              },
            ],
            Tags: { 'tradepulse-dr:purpose': 'failback' },
          }),
        ),
      );
      arn = out.ReplicatorArn!;
    }
    await this.awaitRunning(targetRegion, arn);
    const flow = (await this.flows()).find(
      (f) => f.sourceRegion === sourceRegion && f.targetRegion === targetRegion,
    );
    if (!flow) throw new NotReadyYetError(`MSK Replicator ${arn} is not listed yet`, { arn });
    return { alreadyDone: false, stopped, started: flow, flow };
  }

  private async awaitRunning(region: string, arn: string): Promise<void> {
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const deadline = Date.now() + (this.opts.timeoutMs ?? 900_000);
    for (;;) {
      const out = await awsCall(() =>
        this.opts.kafka(region).send(new DescribeReplicatorCommand({ ReplicatorArn: arn })),
      );
      if (out.ReplicatorState === 'RUNNING') return;
      if (out.ReplicatorState === 'FAILED')
        throw new NotReadyYetError(
          `MSK Replicator ${arn} FAILED: ${out.StateInfo?.Message ?? 'no reason given'}`,
          {
            stateInfo: out.StateInfo,
          },
        );
      if (Date.now() > deadline)
        throw new NotReadyYetError(`MSK Replicator ${arn} is ${out.ReplicatorState}, not RUNNING yet`, {
          state: out.ReplicatorState,
        });
      await sleep(this.opts.pollIntervalMs ?? 15_000);
    }
  }
}
