import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { DR_EVENT_SOURCE } from '../lambdas/shared/adapters/aws/eventbridge-publisher';
import { sameRegionSecretArn } from '../lambdas/shared/providers/database-secret';
import type { Topology } from '../lambdas/shared/topology';
import {
  BACKUP_KEY_PREFIX,
  BACKUP_VALIDATION_KEY_PREFIX,
  EVIDENCE_KEY_PREFIX,
  FEATURE_SNAPSHOT_KEY_PREFIX,
  RESTORE_TARGET_ID_PREFIX,
  type StepCapability,
} from './step-capabilities';

/** The regional resources a step's statements are scoped to (all homed in the orchestrator's region). */
export interface StepPermissionTargets {
  /** The orchestrator's region. */
  readonly region: string;
  readonly account: string;
  readonly topology: Topology;
  readonly tableArn: string;
  readonly topicArn: string;
  readonly bucketArn: string;
  /** The KMS key of the topic and the evidence bucket. */
  readonly keyArn: string;
  /** Where backup validation restores to (deployment config `regions.<region>.backupRestore`). @default not configured */
  readonly backupRestore?: { readonly dbSubnetGroupName: string };
}

/**
 * Sids of statements whose Resource must be "*" or a wildcard because AWS gives no narrower
 * resource for the action; each is explained where it is built.
 */
export const AWS_REQUIRED_WILDCARD_SIDS = ['Route53ChangeStatus'] as const;

/** Sid prefix of the only statements allowed to name another region's resources (best effort, never depended on). */
export const BEST_EFFORT_PEER_REGION_SID = 'BestEffortPeerRegion';

/**
 * Sid prefix of the statements of the failback's planned operations that need the other
 * region (rebuilding this region as a replica of the current primary, lifting the
 * failover's throttles there): a failback runs only while both regions are up.
 */
export const PLANNED_FAILBACK_PEER_REGION_SID = 'PlannedFailbackPeerRegion';

const normalisedRecordName = (name: string) => name.toLowerCase().replace(/\.$/, '');

/**
 * The least-privilege statements for a set of capabilities: only the actions the adapters
 * behind them call (lambdas/shared/adapters/**), on ARNs of the orchestrator's own region.
 */
export function statementsFor(
  scope: Construct,
  capabilities: readonly StepCapability[],
  targets: StepPermissionTargets,
): PolicyStatement[] {
  const stack = Stack.of(scope);
  const { region, account, topology } = targets;
  const own = topology.regions[region];
  if (!own) throw new Error(`region ${region} is not in the topology`);
  const has = (c: StepCapability) => capabilities.includes(c);
  const statements: PolicyStatement[] = [];
  const allow = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
    statements.push(
      new PolicyStatement({
        sid,
        effect: Effect.ALLOW,
        actions,
        resources,
        ...(conditions ? { conditions } : {}),
      }),
    );
  const parameterArns = (r: string) =>
    Object.values(topology.regions[r]!.aws.parameters).map((name) =>
      stack.formatArn({
        service: 'ssm',
        region: r,
        account,
        resource: 'parameter',
        resourceName: name.replace(/^\//, ''),
      }),
    );
  const viaService = (service: string) => ({
    StringEquals: { 'kms:ViaService': `${service}.${region}.amazonaws.com` },
  });

  if (has('lock')) {
    // dynamodb-lock.ts: PutItem (conditional, ALL_OLD), GetItem, DeleteItem on the application's lock item only.
    allow('LockItem', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], [targets.tableArn], {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`lock#${topology.application}`] },
    });
  }
  if (has('lockRead') && !has('lock')) {
    allow('ReadLockItem', ['dynamodb:GetItem'], [targets.tableArn], {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`lock#${topology.application}`] },
    });
  }
  if (has('runRecords')) {
    // dynamodb-run-records.ts: PutItem (header, entries), UpdateItem (counter, status), Query (the run's partition).
    allow('RunRecords', ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], [targets.tableArn], {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['run#*'] },
    });
  }
  if (has('notifier')) {
    allow('PublishNotifications', ['sns:Publish'], [targets.topicArn]);
    // A KMS-encrypted topic needs the publisher to create and use the message data key.
    allow('TopicKey', ['kms:GenerateDataKey', 'kms:Decrypt'], [targets.keyArn], viaService('sns'));
    // dynamodb-notification-ledger.ts: GetItem/PutItem of `notification#…` markers in the run's partition.
    allow('NotificationLedger', ['dynamodb:GetItem', 'dynamodb:PutItem'], [targets.tableArn], {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['run#*'] },
    });
  }
  if (has('events')) {
    // eventbridge-publisher.ts: PutEvents on the region's bus, always with the DR source.
    allow(
      'PutDrEvents',
      ['events:PutEvents'],
      [
        stack.formatArn({
          service: 'events',
          region,
          account,
          resource: 'event-bus',
          resourceName: own.aws.eventBusName,
        }),
      ],
      { StringEquals: { 'events:source': [DR_EVENT_SOURCE] } },
    );
  }
  if (has('flags')) {
    // ssm-flags.ts: GetParameters of the four flags, PutParameter of those that change (String, no KMS).
    allow('TradingFlags', ['ssm:GetParameters', 'ssm:PutParameter'], parameterArns(region));
  }
  if (has('flagsRead') && !has('flags')) {
    allow('ReadTradingFlags', ['ssm:GetParameters'], parameterArns(region));
  }
  if (has('peerFlags')) {
    // quiesce-trading: stop the failed region's gateway *if it still answers*; failures are recorded, never fatal.
    // post-failback-review: lift the failover's throttles in the other region (planned, both regions up).
    const peers = Object.keys(topology.regions).filter((r) => r !== region);
    if (peers.length > 0) {
      allow(
        `${BEST_EFFORT_PEER_REGION_SID}TradingFlags`,
        ['ssm:GetParameters', 'ssm:PutParameter'],
        peers.flatMap((r) => parameterArns(r)),
      );
    }
  }
  if (has('router') || has('routerWrite')) {
    if (topology.dns.method === 'route53-weighted') {
      const zoneArn = stack.formatArn({
        service: 'route53',
        region: '',
        account: '',
        resource: 'hostedzone',
        resourceName: topology.dns.hostedZoneId,
      });
      if (has('router')) {
        allow('ReadTradingRecords', ['route53:ListResourceRecordSets'], [zoneArn]);
        // GetChange: the change id exists only after ChangeResourceRecordSets returns it (AWS-required wildcard).
        allow(
          'Route53ChangeStatus',
          ['route53:GetChange'],
          [
            stack.formatArn({
              service: 'route53',
              region: '',
              account: '',
              resource: 'change',
              resourceName: '*',
            }),
          ],
        );
      }
      if (has('routerWrite')) {
        allow('MoveTradingRecords', ['route53:ChangeResourceRecordSets'], [zoneArn], {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': Object.values(topology.dns.records).map(
              normalisedRecordName,
            ),
            'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
            'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
          },
        });
      }
    } else {
      const controls = Object.values(topology.dns.arc?.routingControlArns ?? {});
      if (has('router'))
        allow('ReadRoutingControls', ['route53-recovery-cluster:GetRoutingControlState'], controls);
      if (has('routerWrite')) {
        allow(
          'MoveRoutingControls',
          [
            'route53-recovery-cluster:UpdateRoutingControlStates',
            'route53-recovery-cluster:UpdateRoutingControlState',
          ],
          controls,
        );
      }
    }
  }
  if (has('evidence')) {
    const objects = `${targets.bucketArn}/${EVIDENCE_KEY_PREFIX}*`;
    // s3-evidence-store.ts: HeadObject (GetObject), PutObject with Object Lock COMPLIANCE retention.
    allow('WriteEvidence', ['s3:PutObject', 's3:PutObjectRetention', 's3:GetObject'], [objects]);
    // HeadObject of a missing key answers 404 (not 403) only with ListBucket, and the store relies on the 404.
    allow('ListEvidence', ['s3:ListBucket'], [targets.bucketArn]);
  }
  if (has('backupEvidence')) {
    // record-backup-validation: the report under backup-validation/<runId>/ (Object Lock default retention).
    allow(
      'WriteBackupValidationReport',
      ['s3:PutObject', 's3:GetObject'],
      [`${targets.bucketArn}/${BACKUP_VALIDATION_KEY_PREFIX}*`],
    );
    allow('ListBackupValidationReports', ['s3:ListBucket'], [targets.bucketArn], {
      StringLike: { 's3:prefix': [`${BACKUP_VALIDATION_KEY_PREFIX}*`] },
    });
    allow(
      'BackupValidationReportKey',
      ['kms:GenerateDataKey', 'kms:Decrypt'],
      [targets.keyArn],
      viaService('s3'),
    );
  }
  if (has('backups')) {
    // lambdas/shared/backup: list, read and verify this region's backups of the application.
    const prefix = `${BACKUP_KEY_PREFIX}${topology.application}/`;
    allow('ReadBackups', ['s3:GetObject'], [`${targets.bucketArn}/${prefix}*`]);
    allow('ListBackups', ['s3:ListBucket'], [targets.bucketArn], {
      StringLike: { 's3:prefix': [`${prefix}*`] },
    });
    allow('DecryptBackupObjects', ['kms:Decrypt'], [targets.keyArn], viaService('s3'));
    const keys = own.aws.backup;
    if (keys) {
      // The envelope's data key (Decrypt) and the manifest signature (Verify), keys of this region.
      allow('DecryptBackupDataKeys', ['kms:Decrypt'], [keys.dataKeyArn]);
      allow('VerifyBackupManifests', ['kms:Verify'], [keys.signingKeyArn]);
    }
  }
  if (has('restoreTargets')) {
    // adapters/restore/rds-restore-targets.ts: restore a snapshot of this region into tpdr-bv-*, delete it again.
    const rds = (resource: string, name: string) =>
      stack.formatArn({
        service: 'rds',
        region,
        account,
        resource,
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const temporary = [
      rds('db', `${RESTORE_TARGET_ID_PREFIX}*`),
      rds('cluster', `${RESTORE_TARGET_ID_PREFIX}*`),
    ];
    allow(
      'RestoreIntoTemporaryTargets',
      [
        'rds:RestoreDBInstanceFromDBSnapshot',
        'rds:RestoreDBClusterFromSnapshot',
        'rds:CreateDBInstance',
        'rds:AddTagsToResource',
        'rds:DescribeDBInstances',
        'rds:DescribeDBClusters',
        'rds:DeleteDBInstance',
        'rds:DeleteDBCluster',
      ],
      temporary,
    );
    // What a restore reads: the snapshot the backup names and the placement the deployment configured.
    allow(
      'RestoreFromSnapshots',
      ['rds:RestoreDBInstanceFromDBSnapshot', 'rds:RestoreDBClusterFromSnapshot'],
      [
        rds('snapshot', '*'),
        rds('cluster-snapshot', '*'),
        ...(targets.backupRestore ? [rds('subgrp', targets.backupRestore.dbSubnetGroupName)] : []),
        rds('og', '*'),
        rds('pg', '*'),
        rds('cluster-pg', '*'),
      ],
    );
    allow(
      'DescribeBackupSnapshots',
      ['rds:DescribeDBSnapshots', 'rds:DescribeDBClusterSnapshots'],
      [rds('snapshot', '*'), rds('cluster-snapshot', '*')],
    );
  }
  if (has('restoredStores') && !has('postgres') && own.postgres.passwordSecretArn) {
    // providers/restored-stores.ts: a snapshot keeps the source's master password, read from this
    // region's database secret (its replica in this region).
    allow(
      'RestoredDatabaseSecret',
      ['secretsmanager:GetSecretValue'],
      [sameRegionSecretArn(own.postgres.passwordSecretArn, region)],
    );
  }
  if (has('restoreValidation')) {
    // AWS Backup restore testing: the action has no resource-level permissions; this region only.
    allow('ReportRestoreValidation', ['backup:PutRestoreValidationResult'], ['*'], {
      StringEquals: { 'aws:RequestedRegion': region },
    });
  }
  if (has('postgresRebuild')) {
    const pg = own.postgres;
    const peers = Object.keys(topology.regions).filter((r) => r !== region);
    if (pg.kind === 'rds') {
      const mine = dbInstanceArn(stack, account, region, pg.dbInstanceIdentifier);
      // adapters/postgres/rebuild-rds.ts: set the diverged instance aside (or delete it with a final snapshot)
      // and create a cross-region read replica of the current primary under the topology's identifier.
      allow(
        'RebuildReplicaInstance',
        [
          'rds:DescribeDBInstances',
          'rds:ModifyDBInstance',
          'rds:DeleteDBInstance',
          'rds:CreateDBInstanceReadReplica',
          'rds:CreateDBSnapshot',
          'rds:AddTagsToResource',
        ],
        [
          mine,
          `${mine}-diverged`,
          stack.formatArn({
            service: 'rds',
            region,
            account,
            resource: 'snapshot',
            resourceName: `${pg.dbInstanceIdentifier}-before-failback-rebuild`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      );
      const primaries = peers.flatMap((r) => {
        const other = topology.regions[r]!.postgres;
        return other.kind === 'rds' ? [dbInstanceArn(stack, account, r, other.dbInstanceIdentifier)] : [];
      });
      if (primaries.length > 0)
        allow(
          `${PLANNED_FAILBACK_PEER_REGION_SID}ReplicaSource`,
          ['rds:DescribeDBInstances', 'rds:CreateDBInstanceReadReplica'],
          primaries,
        );
    } else if (pg.kind === 'aurora-global') {
      // adapters/postgres/rebuild-aurora.ts: set the diverged cluster aside, create this region's
      // secondary cluster in the global database, and one reader instance.
      const clusterId = pg.dbClusterArn.split(':').at(-1)!;
      const cluster = (id: string) =>
        stack.formatArn({
          service: 'rds',
          region,
          account,
          resource: 'cluster',
          resourceName: id,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        });
      allow(
        'RebuildSecondaryCluster',
        [
          'rds:DescribeDBClusters',
          'rds:ModifyDBCluster',
          'rds:CreateDBCluster',
          'rds:CreateDBInstance',
          'rds:DescribeDBInstances',
          'rds:AddTagsToResource',
        ],
        [
          cluster(clusterId),
          cluster(`${clusterId}-diverged`),
          dbInstanceArn(stack, account, region, `${clusterId}-reader-1`),
        ],
      );
      allow(
        'DescribeGlobalDatabaseForRebuild',
        ['rds:DescribeGlobalClusters', 'rds:CreateDBCluster'],
        [globalClusterArn(stack, account, pg.globalClusterIdentifier)],
      );
    }
  }
  if (has('redisSnapshots')) {
    const objects = `${targets.bucketArn}/${FEATURE_SNAPSHOT_KEY_PREFIX}*`;
    allow('ReadFeatureSnapshots', ['s3:GetObject', 's3:GetObjectVersion'], [objects]);
    allow('ListFeatureSnapshots', ['s3:ListBucket'], [targets.bucketArn], {
      StringLike: { 's3:prefix': [`${FEATURE_SNAPSHOT_KEY_PREFIX}*`] },
    });
    allow('DecryptFeatureSnapshots', ['kms:Decrypt'], [targets.keyArn], viaService('s3'));
  }
  if (has('postgres')) {
    // The operator password of every database this orchestrator connects to, read from this region
    // (lambdas/shared/providers/postgres.ts reads exactly these): secrets are replicated to every
    // orchestrator region (a replica keeps the name, only the region differs).
    const secrets = Object.values(topology.regions)
      .map((r) => r.postgres.passwordSecretArn)
      .filter((arn): arn is string => Boolean(arn))
      .map((arn) => sameRegionSecretArn(arn, region));
    if (secrets.length > 0)
      allow('DatabaseSecrets', ['secretsmanager:GetSecretValue'], [...new Set(secrets)]);
    const pg = own.postgres;
    if (pg.kind === 'rds') {
      allow(
        'DescribeDatabase',
        ['rds:DescribeDBInstances'],
        [dbInstanceArn(stack, account, region, pg.dbInstanceIdentifier)],
      );
    } else if (pg.kind === 'aurora-global') {
      allow(
        'DescribeGlobalDatabase',
        ['rds:DescribeGlobalClusters'],
        [globalClusterArn(stack, account, pg.globalClusterIdentifier)],
      );
    }
  }
  if (has('postgresPromote')) {
    const pg = own.postgres;
    if (pg.kind === 'rds') {
      allow(
        'PromoteDatabase',
        ['rds:PromoteReadReplica'],
        [dbInstanceArn(stack, account, region, pg.dbInstanceIdentifier)],
      );
    } else if (pg.kind === 'aurora-global') {
      allow(
        'PromoteGlobalDatabase',
        ['rds:FailoverGlobalCluster', 'rds:SwitchoverGlobalCluster'],
        [globalClusterArn(stack, account, pg.globalClusterIdentifier), pg.dbClusterArn],
      );
    }
  }
  return statements;
}

/** Aurora global clusters are global: their ARN has no region. */
function dbInstanceArn(stack: Stack, account: string, region: string, id: string): string {
  return stack.formatArn({
    service: 'rds',
    region,
    account,
    resource: 'db',
    resourceName: id,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

function globalClusterArn(stack: Stack, account: string, id: string): string {
  return stack.formatArn({
    service: 'rds',
    region: '',
    account,
    resource: 'global-cluster',
    resourceName: id,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
