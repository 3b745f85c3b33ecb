import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/dr-step-function';
import {
  DR_WORKFLOWS,
  functionTimeoutSeconds,
  selectWorkflows,
  type WorkflowSpec,
} from '../../lib/workflows';

const task = (resource: string, timeout?: number) => ({
  Type: 'Task',
  Resource: resource,
  ...(timeout ? { TimeoutSeconds: timeout } : {}),
  End: true,
});
const asl = (states: Record<string, unknown>) =>
  JSON.stringify({ StartAt: Object.keys(states)[0], States: states }, null, 2);

/** A project root with a state-machines/ folder holding the given files. */
function projectWith(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tradepulse-dr-workflows-'));
  fs.mkdirSync(path.join(root, 'state-machines'));
  for (const [name, text] of Object.entries(files))
    fs.writeFileSync(path.join(root, 'state-machines', name), text);
  return root;
}

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});
const project = (files: Record<string, string>) => {
  const root = projectWith(files);
  roots.push(root);
  return root;
};

const FAILOVER = asl({ V: task('${ValidateInputFunctionArn}', 10) });

describe('which workflows the orchestrator deploys (lib/workflows.ts)', () => {
  test('every state-machines/*.asl.json of the repository is a DR_WORKFLOWS entry, so none is ignored', () => {
    const files = fs
      .readdirSync(path.join(PROJECT_ROOT, 'state-machines'))
      .filter((f) => f.endsWith('.asl.json'))
      .map((f) => `state-machines/${f}`);
    expect(files.filter((f) => !DR_WORKFLOWS.some((w) => w.file === f))).toEqual([]);
  });

  test('only the failover: the optional workflows are left out while their files do not exist', () => {
    const { workflows, skipped } = selectWorkflows(project({ 'failover.asl.json': FAILOVER }));
    expect(workflows.map((w) => w.spec.id)).toEqual(['Failover']);
    expect(workflows[0]!.steps).toEqual(['ValidateInput']);
    expect(skipped).toEqual([]);
  });

  test('an optional workflow is picked up once its file exists and every step it invokes is registered and permitted', () => {
    const root = project({
      'failover.asl.json': FAILOVER,
      'failback.asl.json': asl({ N: task('${NotifyFunctionArn}', 30) }),
    });
    const { workflows } = selectWorkflows(root);
    expect(workflows.map((w) => [w.spec.id, w.steps])).toEqual([
      ['Failover', ['ValidateInput']],
      ['Failback', ['Notify']],
    ]);
  });

  test('an optional workflow still being written is skipped with the reason; a required one is an error', () => {
    const root = project({
      'failover.asl.json': FAILOVER,
      'backup-validation.asl.json': asl({ S: task('${SelectBackupsSoonFunctionArn}') }),
      'failback.asl.json': asl({ N: task('${NotifyFunctionArn}') }),
    });
    const { workflows, skipped } = selectWorkflows(root, DR_WORKFLOWS, (step) => step !== 'Notify');
    expect(workflows.map((w) => w.spec.id)).toEqual(['Failover']);
    expect(skipped.map((s) => [s.spec.id, s.reason])).toEqual([
      [
        'BackupValidation',
        'state-machines/backup-validation.asl.json invokes ${SelectBackupsSoonFunctionArn}, not steps registered in lambdas/registry.ts STEP_FUNCTIONS',
      ],
      [
        'Failback',
        'state-machines/failback.asl.json invokes Notify, which have no entry in lib/step-capabilities.ts STEP_CAPABILITIES (their permissions are unknown)',
      ],
    ]);
    const required: WorkflowSpec[] = DR_WORKFLOWS.map((w) => ({ ...w, required: true }));
    expect(() => selectWorkflows(root, required)).toThrow(
      /workflow BackupValidation: .*\$\{SelectBackupsSoonFunctionArn\}/,
    );
    expect(() => selectWorkflows(project({}))).toThrow(
      /workflow Failover: .*failover\.asl\.json does not exist/,
    );
  });

  test('ids are PascalCase and unique', () => {
    const root = project({ 'failover.asl.json': FAILOVER });
    expect(() => selectWorkflows(root, [{ ...DR_WORKFLOWS[0]!, id: 'fail-over' }])).toThrow(/PascalCase/);
    expect(() => selectWorkflows(root, [DR_WORKFLOWS[0]!, DR_WORKFLOWS[0]!])).toThrow(/used twice/);
  });

  test('a shared step’s function timeout is its longest plain task over every workflow; callback-only steps get 60 s', () => {
    const root = project({
      'failover.asl.json': asl({
        V: { ...task('${ValidateInputFunctionArn}', 10), End: undefined, Next: 'A' },
        A: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: '${RequestApprovalFunctionArn}' },
          End: true,
        },
      }),
      'failback.asl.json': asl({ V: task('${ValidateInputFunctionArn}', 240) }),
    });
    const { workflows } = selectWorkflows(root);
    expect(functionTimeoutSeconds('ValidateInput', workflows)).toBe(240);
    expect(functionTimeoutSeconds('RequestApproval', workflows)).toBe(60);
  });
});
