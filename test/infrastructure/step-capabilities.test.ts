import fs from 'node:fs';
import path from 'node:path';
import { STEP_FUNCTIONS, handlerEntry, type StepFunctionName } from '../../lambdas/registry';
import { FEATURE_SNAPSHOT_PREFIX } from '../../lambdas/shared/feature-snapshot';
import { functionArnVariable, summarizeAsl } from '../../lib/asl';
import { PROJECT_ROOT } from '../../lib/dr-step-function';
import { BACKUP_KEY_ROOT } from '../../lambdas/shared/backup/contracts';
import { rdsRestoreIdentifier } from '../../lambdas/shared/adapters/restore/target-names';
import { reportKey } from '../../lambdas/record-backup-validation/logic';
import {
  BACKUP_KEY_PREFIX,
  BACKUP_VALIDATION_KEY_PREFIX,
  RESTORE_TARGET_ID_PREFIX,
  EVIDENCE_KEY_PREFIX,
  FEATURE_SNAPSHOT_KEY_PREFIX,
  STEP_CAPABILITIES,
  type StepCapability,
} from '../../lib/step-capabilities';

const STEP_NAMES = Object.keys(STEP_FUNCTIONS) as StepFunctionName[];
/** Steps with a capabilities entry (a step of a workflow still being written may have none yet). */
const WITH_CAPABILITIES = STEP_NAMES.filter((n) => STEP_CAPABILITIES[n] !== undefined);
const logicFile = (name: StepFunctionName) =>
  path.join(PROJECT_ROOT, 'lambdas', STEP_FUNCTIONS[name].name, 'logic.ts');

/** The dependencies a step's logic declares: `deps: Pick<DrDependencies, 'a' | 'b'>` (and SmokeDependencies). */
function declaredDependencies(name: StepFunctionName): string[] {
  const source = fs.readFileSync(logicFile(name), 'utf8');
  const run = /async run\([^)]*deps:\s*([^)]*)\)/s.exec(source);
  if (!run) throw new Error(`${logicFile(name)}: no 'async run(…, deps: …)' found`);
  const declared = [...run[1]!.matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]!);
  if (/\bSmokeDependencies\b/.test(run[1]!)) declared.push('smokeSink');
  return declared.sort();
}

/** Which capabilities satisfy each dependency a step may declare; `[]` = needs no AWS or network permission. */
const CAPABILITIES_OF_DEPENDENCY: Record<string, readonly StepCapability[]> = {
  topology: [],
  region: [],
  sleep: [],
  journal: [], // the load generator's journal exists only in sandbox drills
  lock: ['lock', 'lockRead'],
  runRecords: ['runRecords'],
  notifier: ['notifier'],
  events: ['events'],
  flags: ['flags', 'flagsRead'],
  router: ['router'],
  evidence: ['evidence', 'backupEvidence'],
  postgres: ['postgres'],
  kafka: ['kafka'],
  redis: ['redis'],
  smokeSink: ['smokeSink'],
  // Backup validation (lambdas/shared/backup-validation/dependencies.ts)
  backupReader: ['backups'],
  backupObjects: ['backups'],
  restoreTargets: ['restoreTargets'],
  restoredPostgres: ['restoredStores'],
  restoredRedis: ['restoredStores'],
  mirrorReplay: ['kafka'],
  restoreValidation: ['restoreValidation'],
  // Failback rebuild (RebuildDependencies)
  postgresRebuilder: ['postgresRebuild'],
  redisReplica: ['redis'],
  // The sandbox's MirrorMaker 2 control; on AWS the provider refuses (no replicator settings), so no permission.
  mirrorControl: [],
};
/** Capabilities a dependency brings besides its own: the restore targets read the backup they restore. */
const ALSO_IMPLIED_BY: Partial<Record<StepCapability, string>> = { backups: 'restoreTargets' };
/** Refinements that are only allowed on top of the capability they refine. */
const REFINES: Partial<Record<StepCapability, StepCapability>> = {
  peerFlags: 'flags',
  routerWrite: 'router',
  postgresPromote: 'postgres',
  redisSnapshots: 'redis',
};

describe('STEP_CAPABILITIES follows what each step’s logic declares', () => {
  test.each(WITH_CAPABILITIES)('%s', (name) => {
    const declared = declaredDependencies(name);
    const capabilities = STEP_CAPABILITIES[name]!;
    for (const dependency of declared) {
      const satisfying = CAPABILITIES_OF_DEPENDENCY[dependency];
      expect([dependency, satisfying]).not.toEqual([dependency, undefined]);
      if (satisfying!.length > 0)
        expect([dependency, capabilities.some((c) => satisfying!.includes(c))]).toEqual([dependency, true]);
    }
    for (const capability of capabilities) {
      const base = REFINES[capability] ?? capability;
      const fromDeclared =
        declared.some((d) => CAPABILITIES_OF_DEPENDENCY[d]?.includes(base)) ||
        declared.includes(ALSO_IMPLIED_BY[capability] ?? '');
      expect([capability, fromDeclared]).toEqual([capability, true]);
      if (REFINES[capability])
        expect([capability, capabilities.includes(REFINES[capability]!)]).toEqual([capability, true]);
    }
  });

  test('every step has a handler module exporting `handler`', () => {
    for (const name of STEP_NAMES) {
      const source = fs.readFileSync(path.join(PROJECT_ROOT, handlerEntry(name)), 'utf8');
      expect([name, /export const handler\b/.test(source)]).toEqual([name, true]);
    }
  });

  test('write refinements go where the logic writes: only QuiesceTrading touches the failed region, only CutoverTraffic moves traffic', () => {
    const holders = (capability: StepCapability) =>
      STEP_NAMES.filter((n) => STEP_CAPABILITIES[n]?.includes(capability));
    expect(holders('peerFlags')).toEqual(['QuiesceTrading', 'PostFailbackReview']);
    // The failback's review lifts the failover's throttles in both regions (planned: both are up).
    expect(fs.readFileSync(logicFile('PostFailbackReview'), 'utf8')).toMatch(
      /\[standby\]: \{[^}]*acceptNewOrders: true/s,
    );
    expect(holders('routerWrite')).toEqual(['CutoverTraffic']);
    expect(holders('postgresRebuild')).toEqual(['RebuildPostgresStandby']);
    expect(holders('restoreTargets')).toEqual([
      'RestorePostgresBackup',
      'RestoreRedisBackup',
      'TeardownRestoreTargets',
    ]);
    expect(holders('postgresPromote')).toEqual(['PromotePostgres']);
    expect(holders('redisSnapshots')).toEqual(['PromoteRedis']);
    const quiesce = fs.readFileSync(logicFile('QuiesceTrading'), 'utf8');
    expect(quiesce).toMatch(/deps\s*\.flags\(\s*run\.sourceRegion\s*\)\s*\.set\(/);
  });

  test('the backup prefixes and restore target names match what the backup code uses', () => {
    expect(BACKUP_KEY_PREFIX).toBe(`${BACKUP_KEY_ROOT}/`);
    expect(reportKey('r-1').startsWith(BACKUP_VALIDATION_KEY_PREFIX)).toBe(true);
    expect(rdsRestoreIdentifier('any-run').startsWith(RESTORE_TARGET_ID_PREFIX)).toBe(true);
    expect(rdsRestoreIdentifier('any-run', 'cluster').startsWith(RESTORE_TARGET_ID_PREFIX)).toBe(true);
  });

  test('the S3 key prefixes match what the steps read and write', () => {
    expect(FEATURE_SNAPSHOT_KEY_PREFIX).toBe(FEATURE_SNAPSHOT_PREFIX);
    const evidence = fs.readFileSync(logicFile('WriteEvidenceBundle'), 'utf8');
    const keys = [...evidence.matchAll(/evidence\.put\(\s*`([^`]+)`/g)].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith(EVIDENCE_KEY_PREFIX)).toBe(true);
  });
});

describe('the failover ASL as the CDK reads it', () => {
  const asl = summarizeAsl(path.join(PROJECT_ROOT, 'state-machines', 'failover.asl.json'));

  test('its substitutions are all function ARNs of registered steps', () => {
    const registered = STEP_NAMES.map(functionArnVariable);
    expect(asl.substitutions.filter((s) => !registered.includes(s))).toEqual([]);
    expect(asl.substitutions.length).toBeGreaterThanOrEqual(27);
  });

  test('RequestApproval is the one callback task; every other function has a task timeout', () => {
    expect(asl.callbackFunctions).toEqual(['RequestApprovalFunctionArn']);
    const invoked = STEP_NAMES.filter((n) => asl.substitutions.includes(functionArnVariable(n)));
    for (const name of invoked.filter((n) => n !== 'RequestApproval')) {
      const seconds = asl.taskTimeoutSeconds[functionArnVariable(name)];
      expect([name, typeof seconds === 'number' && seconds > 0 && seconds <= 900]).toEqual([name, true]);
    }
    expect(asl.taskTimeoutSeconds.ReconcileLedgerFunctionArn).toBe(300);
  });
});
