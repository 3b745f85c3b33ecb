import { Route53Client } from '@aws-sdk/client-route-53';
import { createArcClusterClients, type ArcClusterClient } from '../adapters/aws/arc-clients';
import { ArcRoutingControlRouter } from '../adapters/aws/arc-router';
import { Route53WeightedRouter } from '../adapters/aws/route53-router';
import { defineProvider } from './provider';
import type { DrDependencies } from '../dependencies';

/** `router`: traffic routing, by ARC routing controls or Route 53 weighted records as the topology says. */
export const routerProvider = defineProvider<Pick<DrDependencies, 'router'>>('router', (ctx) => {
  const { dns } = ctx.topology;
  let clusters: ArcClusterClient[] | undefined;
  return {
    forRun: (runId) => {
      if (dns.method === 'arc-routing-control' && dns.arc) {
        clusters ??= createArcClusterClients(dns.arc.clusterEndpoints);
        return {
          router: new ArcRoutingControlRouter({ clusters, routingControlArns: dns.arc.routingControlArns }),
        };
      }
      return {
        router: new Route53WeightedRouter({
          route53: ctx.aws(ctx.region, 'route53', (c) => new Route53Client(c)),
          dns,
          runId,
        }),
      };
    },
    async close() {
      for (const cluster of clusters ?? []) cluster.client.destroy();
    },
  };
});
