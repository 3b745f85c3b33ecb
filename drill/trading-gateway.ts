import { setTimeout as sleep } from 'node:timers/promises';
import { ListResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';
import type { DependencyPool } from '../lambdas/shared/build-dependencies';
import type { Topology, TradingEndpoint } from '../lambdas/shared/topology';

export interface GatewayView {
  /** The region each trading endpoint's DNS record currently sends traffic to. */
  routes: Partial<Record<TradingEndpoint, string>>;
  /** ACCEPT_NEW_ORDERS in the region the API edge points at. */
  acceptingOrders: boolean;
  /** When the gateway stopped / started accepting orders (for the trading-paused time). */
  pausedAt?: number;
  resumedAt?: number;
}

/**
 * What the simulated order gateway and clients see: where DNS points and whether the
 * active region accepts new orders, polled in the background (as a real gateway caches
 * its flags), so the load generator follows a failover the way clients would.
 */
export class TradingGatewayView {
  readonly view: GatewayView = { routes: {}, acceptingOrders: true };
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly topology: Topology,
    private readonly route53: Route53Client,
    private readonly pool: DependencyPool,
    private readonly intervalMs = 100,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.loop = (async () => {
      while (!this.stopped) {
        await sleep(this.intervalMs);
        await this.refresh().catch(() => undefined);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async refresh(): Promise<void> {
    const { dns } = this.topology;
    const { ResourceRecordSets = [] } = await this.route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: dns.hostedZoneId }),
    );
    for (const [endpoint, name] of Object.entries(dns.records) as [TradingEndpoint, string][]) {
      const active = ResourceRecordSets.find((r) => r.Name === `${name}.` && (r.Weight ?? 0) > 0);
      if (active?.SetIdentifier) this.view.routes[endpoint] = active.SetIdentifier;
    }
    const region = this.view.routes.api;
    if (!region) return;
    const accepting = (await this.pool.flags(region).read()).acceptNewOrders;
    if (this.view.acceptingOrders && !accepting) this.view.pausedAt = Date.now();
    if (!this.view.acceptingOrders && accepting && this.view.pausedAt) this.view.resumedAt = Date.now();
    this.view.acceptingOrders = accepting;
  }

  regionOf(endpoint: TradingEndpoint): string {
    const region = this.view.routes[endpoint];
    if (!region) throw new Error(`DNS has no active record for ${endpoint}`);
    return region;
  }

  /** The load generator's gate: new orders wait while the gateway is quiesced. */
  async waitUntilAccepting(isStopping: () => boolean): Promise<void> {
    while (!this.view.acceptingOrders && !isStopping()) await sleep(this.intervalMs);
  }
}
