import {
  GetRoutingControlStateCommand,
  UpdateRoutingControlStatesCommand,
  type RoutingControlState,
} from '@aws-sdk/client-route53-recovery-cluster';
import { InvalidInputError, TransientError } from '../../errors';
import { TRADING_ENDPOINTS } from '../../topology';
import type { DnsCutoverResult, TrafficRouter } from '../contracts';
import { awsErrorName } from './aws-call';
import type { ArcClusterClient } from './arc-clients';

export interface ArcRoutingControlRouterOptions {
  /** One client per regional cluster endpoint (createArcClusterClients), tried in this order. */
  readonly clusters: readonly ArcClusterClient[];
  /** The routing control that sends traffic to each region (topology `dns.arc.routingControlArns`). */
  readonly routingControlArns: Readonly<Record<string, string>>;
}

/** Errors that mean the request itself is refused: another endpoint would refuse it too. */
const REFUSED = new Set([
  'ValidationException',
  'AccessDeniedException',
  'ResourceNotFoundException',
  'ConflictException', // a safety rule blocked the update
  'ServiceLimitExceededException',
]);

const CHANGE_ID_PREFIX = 'arc-routing-control:';

/**
 * Traffic routing over Route 53 ARC routing controls: the data-plane method, which keeps
 * working when the Route 53 control plane (us-east-1) does not. Each routing control gates
 * the health checks behind one region's records, so one On control means every trading
 * endpoint answers from that region. As AWS documents for the cluster's data plane, each
 * call goes to one regional cluster endpoint and, on failure, to the next.
 */
export class ArcRoutingControlRouter implements TrafficRouter {
  private readonly clusters: readonly ArcClusterClient[];
  private readonly routingControlArns: Readonly<Record<string, string>>;
  /** The endpoint that answered last; the next call starts there. */
  private preferred = 0;

  constructor(opts: ArcRoutingControlRouterOptions) {
    if (opts.clusters.length === 0) {
      throw new InvalidInputError('at least one ARC cluster endpoint is required', {
        field: 'dns.arc.clusterEndpoints',
      });
    }
    if (Object.keys(opts.routingControlArns).length < 2) {
      throw new InvalidInputError('routing controls for at least two regions are required', {
        field: 'dns.arc.routingControlArns',
      });
    }
    this.clusters = opts.clusters;
    this.routingControlArns = opts.routingControlArns;
  }

  async activeRegions(): Promise<Record<string, string | null>> {
    const states = await this.readStates();
    const on = Object.keys(states).filter((r) => states[r] === 'On');
    const region = on.length === 1 ? on[0]! : null;
    return Object.fromEntries(TRADING_ENDPOINTS.map((e) => [e, region]));
  }

  async routeTo(region: string, opts: { dryRun: boolean }): Promise<DnsCutoverResult> {
    const desired = this.desiredStates(region);
    const before = await this.readStates();
    const alreadyDone = Object.keys(desired).every((r) => before[r] === desired[r]);
    const records = Object.keys(desired).map((r) => ({
      name: `${this.routingControlArns[r]} (${r})`,
      before: before[r] ?? null,
      after: alreadyDone ? before[r]! : desired[r]!,
    }));
    if (alreadyDone || opts.dryRun) return { method: 'arc-routing-control', alreadyDone, records };

    // One call: target On and the others Off together, so an "at least one On" safety rule holds throughout.
    await this.onAnyCluster('UpdateRoutingControlStates', (client) =>
      client.send(
        new UpdateRoutingControlStatesCommand({
          UpdateRoutingControlStateEntries: Object.keys(desired).map((r) => ({
            RoutingControlArn: this.routingControlArns[r]!,
            RoutingControlState: desired[r]!,
          })),
        }),
      ),
    );
    return {
      method: 'arc-routing-control',
      alreadyDone: false,
      changeId: `${CHANGE_ID_PREFIX}${region}`,
      records,
    };
  }

  /** Reads every routing control back: complete when the change's region is On and the others Off. */
  async isChangeComplete(changeId: string): Promise<boolean> {
    if (!changeId.startsWith(CHANGE_ID_PREFIX)) {
      throw new InvalidInputError(`not an ARC routing-control change id: ${changeId}`, { field: 'changeId' });
    }
    const desired = this.desiredStates(changeId.slice(CHANGE_ID_PREFIX.length));
    const states = await this.readStates();
    return Object.keys(desired).every((r) => states[r] === desired[r]);
  }

  private desiredStates(region: string): Record<string, RoutingControlState> {
    if (!this.routingControlArns[region]) {
      throw new InvalidInputError(`region ${region} has no ARC routing control`, {
        field: 'targetRegion',
        region,
      });
    }
    return Object.fromEntries(
      Object.keys(this.routingControlArns).map((r) => [r, r === region ? 'On' : 'Off']),
    );
  }

  private async readStates(): Promise<Record<string, RoutingControlState>> {
    const entries = await Promise.all(
      Object.entries(this.routingControlArns).map(async ([region, arn]) => {
        const response = await this.onAnyCluster('GetRoutingControlState', (client) =>
          client.send(new GetRoutingControlStateCommand({ RoutingControlArn: arn })),
        );
        if (!response.RoutingControlState)
          throw new TransientError(`no state returned for routing control ${arn}`);
        return [region, response.RoutingControlState] as const;
      }),
    );
    return Object.fromEntries(entries);
  }

  /** Tries each cluster endpoint in turn, starting with the last one that answered. */
  private async onAnyCluster<T>(
    operation: string,
    call: (client: ArcClusterClient['client']) => Promise<T>,
  ): Promise<T> {
    const failures: string[] = [];
    for (let i = 0; i < this.clusters.length; i++) {
      const index = (this.preferred + i) % this.clusters.length;
      const cluster = this.clusters[index]!;
      try {
        const result = await call(cluster.client);
        this.preferred = index;
        return result;
      } catch (err) {
        if (REFUSED.has(awsErrorName(err) ?? '')) throw err;
        failures.push(
          `${cluster.endpoint} (${cluster.region}): ${awsErrorName(err) ?? 'Error'}: ${(err as Error).message}`,
        );
      }
    }
    throw new TransientError(`${operation} failed on every ARC cluster endpoint: ${failures.join('; ')}`, {
      operation,
      failures,
    });
  }
}
