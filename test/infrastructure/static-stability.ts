import { BEST_EFFORT_PEER_REGION_SID, PLANNED_FAILBACK_PEER_REGION_SID } from '../../lib/step-permissions';
import { stringLeaves } from './synthesize';

export interface StabilityViolation {
  readonly path: string;
  readonly detail: string;
}

/** Where another region's name may appear, and why that is not a dependency on it. */
export const ALLOWED_PEER_REGION_MENTIONS = [
  'a Lambda environment variable DR_TOPOLOGY: the topology document every orchestrator receives; the steps use the failed region only for best-effort fencing and quiescing',
  `a policy statement whose Sid starts with ${BEST_EFFORT_PEER_REGION_SID}, limited to ssm:GetParameters/ssm:PutParameter: QuiesceTrading stops the failed region's gateway if it still answers and records the failure otherwise; PostFailbackReview lifts the failover's throttles there during a planned failback`,
  `a policy statement whose Sid starts with ${PLANNED_FAILBACK_PEER_REGION_SID}, limited to rds:DescribeDBInstances/rds:CreateDBInstanceReadReplica: the failback rebuilds this region's RDS instance as a read replica of the current primary, a planned operation that runs only while both regions are up (never part of a failover)`,
] as const;

/** The actions each documented peer-region statement may hold, by its Sid prefix. */
const PEER_STATEMENT_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  [BEST_EFFORT_PEER_REGION_SID]: ['ssm:GetParameters', 'ssm:PutParameter'],
  [PLANNED_FAILBACK_PEER_REGION_SID]: ['rds:DescribeDBInstances', 'rds:CreateDBInstanceReadReplica'],
};

const mentions = (text: string, region: string) =>
  new RegExp(`(?<![a-z0-9-])${region.replace(/-/g, '\\-')}(?![0-9])`).test(text);

/**
 * Static stability of one orchestrator template: it must not import another stack's
 * outputs, use CDK's cross-region reference machinery, or name another configured region
 * (in an ARN, a secret, a parameter, a table, an endpoint…) outside the two documented
 * places (ALLOWED_PEER_REGION_MENTIONS).
 */
export function staticStabilityViolations(
  template: { Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }> } & Record<
    string,
    unknown
  >,
  ownRegion: string,
  configuredRegions: readonly string[],
): StabilityViolation[] {
  const violations: StabilityViolation[] = [];
  const peers = configuredRegions.filter((r) => r !== ownRegion);
  const json = JSON.stringify(template);
  if (json.includes('"Fn::ImportValue"'))
    violations.push({ path: '(template)', detail: 'uses Fn::ImportValue (a dependency on another stack)' });
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    if (/^Custom::CrossRegion/.test(resource.Type)) {
      violations.push({ path: `Resources.${id}`, detail: `${resource.Type} (CDK cross-region reference)` });
    }
  }
  for (const leaf of stringLeaves(template)) {
    const peer = peers.find((r) => mentions(leaf.value, r));
    if (!peer) continue;
    const [top, resourceId] = leaf.path;
    const resource = top === 'Resources' && resourceId ? template.Resources?.[resourceId] : undefined;
    const joined = leaf.path.join('.');
    const inTopologyVariable =
      resource?.Type === 'AWS::Lambda::Function' &&
      joined === `Resources.${resourceId}.Properties.Environment.Variables.DR_TOPOLOGY`;
    let inBestEffortStatement = false;
    const statementAt = leaf.path.indexOf('Statement');
    if (
      resource &&
      (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::Role') &&
      statementAt > 0
    ) {
      let statement: unknown = template;
      for (const key of leaf.path.slice(0, statementAt + 2))
        statement = (statement as Record<string, unknown>)[key];
      const s = statement as { Sid?: string; Action?: string | string[]; Effect?: string };
      const actions = ([] as string[]).concat(s.Action ?? []);
      const allowed = Object.entries(PEER_STATEMENT_ACTIONS).find(([prefix]) =>
        s.Sid?.startsWith(prefix),
      )?.[1];
      inBestEffortStatement =
        Boolean(allowed) &&
        s.Effect === 'Allow' &&
        actions.every((a) => allowed!.includes(a)) &&
        leaf.path[statementAt + 2] === 'Resource';
    }
    if (!inTopologyVariable && !inBestEffortStatement) {
      violations.push({ path: joined, detail: `names ${peer}: ${leaf.value.slice(0, 160)}` });
    }
  }
  return violations;
}
