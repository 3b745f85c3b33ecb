import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type Change,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { InvalidInputError } from '../../errors';
import { TRADING_ENDPOINTS, type Topology, type TradingEndpoint } from '../../topology';
import type { DnsCutoverResult, TrafficRouter } from '../contracts';
import { awsCall } from './aws-call';

export interface Route53WeightedRouterOptions {
  /** Create once at module scope. Route 53's control plane answers from us-east-1 whatever the region. */
  readonly route53: Route53Client;
  /** The topology's DNS section: zone, record name per endpoint, CNAME target per region and endpoint, TTL. */
  readonly dns: Pick<Topology['dns'], 'hostedZoneId' | 'records' | 'targets'> & { ttlSeconds?: number };
  /** Named in the change batch comment, so Route 53's change history says which run made it. */
  readonly runId: string;
}

/** One weighted record set as observed: its region (= SetIdentifier), weight and CNAME target. */
interface ObservedRecordSet {
  region: string;
  weight: number;
  target: string | null;
  healthCheckId?: string;
}

const CHANGE_PREFIX = '/change/';
const COMMENT_MAX = 256;

/**
 * Traffic routing over Route 53 weighted CNAMEs: one record set per trading endpoint and
 * region (SetIdentifier = region name); the active region has weight 100, the others 0.
 * This is a control-plane edit (Route 53's control plane lives in us-east-1): it is
 * retried by the SDK and verified with GetChange → INSYNC. ARC routing controls
 * (arc-router.ts) are the data-plane alternative.
 */
export class Route53WeightedRouter implements TrafficRouter {
  private readonly route53: Route53Client;
  private readonly hostedZoneId: string;
  private readonly records: Record<TradingEndpoint, string>;
  private readonly targets: Record<string, Record<TradingEndpoint, string>>;
  private readonly ttlSeconds: number;
  private readonly runId: string;

  constructor(opts: Route53WeightedRouterOptions) {
    if (Object.keys(opts.dns.targets).length < 2) {
      throw new InvalidInputError('dns.targets must name at least two regions', { field: 'dns.targets' });
    }
    this.route53 = opts.route53;
    this.hostedZoneId = opts.dns.hostedZoneId.replace(/^\/hostedzone\//, '');
    this.records = opts.dns.records;
    this.targets = opts.dns.targets;
    this.ttlSeconds = opts.dns.ttlSeconds ?? 5;
    this.runId = opts.runId;
  }

  async activeRegions(): Promise<Record<string, string | null>> {
    const observed = await this.observeAll();
    return Object.fromEntries(TRADING_ENDPOINTS.map((e) => [e, activeRegionOf(observed[e])]));
  }

  async routeTo(
    region: string,
    opts: { dryRun: boolean; endpoints?: readonly TradingEndpoint[] },
  ): Promise<DnsCutoverResult> {
    if (!this.targets[region]) {
      throw new InvalidInputError(`region ${region} has no DNS targets in the topology`, {
        field: 'targetRegion',
        region,
      });
    }
    const observed = await this.observeAll();
    const endpoints = opts.endpoints ?? TRADING_ENDPOINTS;
    const alreadyDone = endpoints.every((e) => this.isRoutedTo(observed[e], e, region));
    const planned = endpoints.flatMap((e) =>
      Object.keys(this.targets).map((r) => {
        const before = observed[e].find((set) => set.region === r);
        const desired: ObservedRecordSet = {
          region: r,
          weight: r === region ? 100 : 0,
          target: this.targets[r]![e],
          ...(before?.healthCheckId ? { healthCheckId: before.healthCheckId } : {}),
        };
        return { endpoint: e, before, desired };
      }),
    );
    const records = planned.map(({ endpoint, before, desired }) => ({
      name: `${this.records[endpoint]} [${desired.region}]`,
      before: before ? describeRecordSet(before) : null,
      after: alreadyDone ? (before ? describeRecordSet(before) : '(absent)') : describeRecordSet(desired),
    }));
    if (alreadyDone || opts.dryRun) return { method: 'route53-weighted', alreadyDone, records };

    const changes: Change[] = planned.map(({ endpoint, desired }) => ({
      Action: 'UPSERT',
      ResourceRecordSet: {
        Name: this.records[endpoint],
        Type: 'CNAME',
        SetIdentifier: desired.region,
        Weight: desired.weight,
        TTL: this.ttlSeconds,
        ResourceRecords: [{ Value: desired.target! }],
        // UPSERT replaces the whole record set: keep a health check someone attached.
        ...(desired.healthCheckId ? { HealthCheckId: desired.healthCheckId } : {}),
      },
    }));
    const comment =
      `tradepulse-dr run ${this.runId}: route ${opts.endpoints ? endpoints.join(', ') : 'trading endpoints'} to ${region}`.slice(
        0,
        COMMENT_MAX,
      );
    const response = await awsCall(() =>
      this.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: this.hostedZoneId,
          ChangeBatch: { Comment: comment, Changes: changes },
        }),
      ),
    );
    const changeId = response.ChangeInfo?.Id;
    if (!changeId) throw new Error('ChangeResourceRecordSets returned no change id');
    return { method: 'route53-weighted', alreadyDone: false, changeId: normaliseChangeId(changeId), records };
  }

  async isChangeComplete(changeId: string): Promise<boolean> {
    const response = await awsCall(() =>
      this.route53.send(new GetChangeCommand({ Id: normaliseChangeId(changeId) })),
    );
    return response.ChangeInfo?.Status === 'INSYNC';
  }

  private isRoutedTo(sets: ObservedRecordSet[], endpoint: TradingEndpoint, region: string): boolean {
    return Object.keys(this.targets).every((r) => {
      const set = sets.find((s) => s.region === r);
      if (r === region)
        return (
          set !== undefined && set.weight > 0 && set.target === normaliseName(this.targets[r]![endpoint])
        );
      return set === undefined || set.weight === 0;
    });
  }

  /** One endpoint after the other: Route 53's API allows 5 requests per second per account. */
  private async observeAll(): Promise<Record<TradingEndpoint, ObservedRecordSet[]>> {
    const observed: Partial<Record<TradingEndpoint, ObservedRecordSet[]>> = {};
    for (const e of TRADING_ENDPOINTS) observed[e] = await this.observe(this.records[e]);
    return observed as Record<TradingEndpoint, ObservedRecordSet[]>;
  }

  /** The weighted CNAME record sets of one name, paging while Route 53 stays on that name. */
  private async observe(recordName: string): Promise<ObservedRecordSet[]> {
    const wanted = normaliseName(recordName);
    const found: ObservedRecordSet[] = [];
    let start: { name: string; type?: ResourceRecordSet['Type']; identifier?: string } = {
      name: recordName,
      type: 'CNAME',
    };
    for (;;) {
      const page = await awsCall(() =>
        this.route53.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: this.hostedZoneId,
            StartRecordName: start.name,
            StartRecordType: start.type,
            ...(start.identifier ? { StartRecordIdentifier: start.identifier } : {}),
          }),
        ),
      );
      for (const set of page.ResourceRecordSets ?? []) {
        if (
          normaliseName(set.Name ?? '') !== wanted ||
          set.Type !== 'CNAME' ||
          set.SetIdentifier === undefined
        )
          continue;
        found.push({
          region: set.SetIdentifier,
          weight: set.Weight ?? 0,
          target: set.ResourceRecords?.[0]?.Value ? normaliseName(set.ResourceRecords[0].Value) : null,
          ...(set.HealthCheckId ? { healthCheckId: set.HealthCheckId } : {}),
        });
      }
      const next = page.NextRecordName;
      if (!page.IsTruncated || !next || normaliseName(next) !== wanted || page.NextRecordType !== 'CNAME')
        return found;
      start = {
        name: next,
        type: page.NextRecordType,
        ...(page.NextRecordIdentifier ? { identifier: page.NextRecordIdentifier } : {}),
      };
    }
  }
}

/** The one region with weight > 0; null when none or several (ambiguous). */
function activeRegionOf(sets: ObservedRecordSet[]): string | null {
  const weighted = sets.filter((s) => s.weight > 0);
  return weighted.length === 1 ? weighted[0]!.region : null;
}

function describeRecordSet(set: ObservedRecordSet): string {
  return `weight ${set.weight} → ${set.target ?? '(no target)'}`;
}

/** Route 53 answers with fully qualified, lower-case names (trailing dot). */
function normaliseName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** ChangeResourceRecordSets answers `/change/C…`; moto's GetChange echoes the id without the prefix. */
export function normaliseChangeId(id: string): string {
  return id.startsWith(CHANGE_PREFIX) ? id.slice(CHANGE_PREFIX.length) : id;
}
