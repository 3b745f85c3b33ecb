import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDeploymentConfig } from '../../bin/config';
import { DeploymentConfigError, KNOWN_REGIONS, parseDeploymentConfig } from '../../lib/deployment-config';
import { PROJECT_ROOT } from '../../lib/dr-step-function';
import { SAMPLE_CONFIG_FILE, sampleConfigInput } from './synthesize';

/** A config as plain JSON; loosely typed because the point is to write what the schema forbids. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyConfig = any;

/** The sample config with one change applied. */
function withChange(change: (config: AnyConfig) => void): unknown {
  const config = sampleConfigInput();
  change(config);
  return config;
}

function messageOf(input: unknown): string {
  try {
    parseDeploymentConfig(input, 'test config');
  } catch (err) {
    expect(err).toBeInstanceOf(DeploymentConfigError);
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('deployment config', () => {
  test('the sample config parses, with the topology defaults applied', () => {
    const config = parseDeploymentConfig(sampleConfigInput());
    expect(config.account).toBe('111122223333');
    expect(Object.keys(config.topology.regions)).toEqual(['us-east-1', 'us-west-2']);
    expect(config.logLevel).toBe('INFO');
    expect(config.bundleAwsSdk).toBe(false);
    expect(config.topology.objectives.postgres).toEqual({ rpoSeconds: 60, rtoSeconds: 600 });
  });

  test('deployment-only fields default when absent', () => {
    const config = parseDeploymentConfig(
      withChange((c) => {
        delete c.logRetentionDays;
        delete c.evidenceRetentionDays;
        delete c.backupValidation;
        delete c.regions;
      }),
    );
    expect([config.logRetentionDays, config.evidenceRetentionDays, config.regions]).toEqual([90, 2555, {}]);
    expect(config.backupValidation).toEqual({
      enabled: true,
      scheduleExpression: 'cron(0 3 * * ? *)',
      timezone: 'UTC',
      expectedIntervalHours: 24,
      retryAttempts: 3,
      maxEventAgeMinutes: 60,
    });
  });

  test.each([
    [
      'an unknown region',
      (c: AnyConfig) => {
        c.topology.regions['us-moon-1'] = c.topology.regions['us-west-2'];
      },
      "topology.regions.us-moon-1: unknown AWS region 'us-moon-1'",
    ],
    [
      'a region name that is not one',
      (c: AnyConfig) => {
        c.topology.regions['West Coast'] = c.topology.regions['us-west-2'];
      },
      'topology.regions.West Coast',
    ],
    [
      'a missing approver list',
      (c: AnyConfig) => {
        delete c.approverPrincipalArns;
      },
      'approverPrincipalArns: is required: the IAM roles or users who may answer the approval',
    ],
    [
      'an empty approver list',
      (c: AnyConfig) => {
        c.approverPrincipalArns = [];
      },
      'approverPrincipalArns: at least one approver principal is required',
    ],
    [
      'an approver that is not an IAM role or user',
      (c: AnyConfig) => {
        c.approverPrincipalArns = ['alice'];
      },
      'approverPrincipalArns.0: must be an IAM role or user ARN',
    ],
    [
      'objectives that are not numbers',
      (c: AnyConfig) => {
        c.topology.objectives.postgres.rpoSeconds = '60s';
      },
      'topology.objectives.postgres.rpoSeconds: Invalid input: expected number',
    ],
    [
      'one region only',
      (c: AnyConfig) => {
        delete c.topology.regions['us-west-2'];
        delete c.regions['us-west-2'];
      },
      'topology.regions: at least two regions',
    ],
    [
      'an account that is not 12 digits',
      (c: AnyConfig) => {
        c.account = '1234';
      },
      'account: must be a 12-digit AWS account id',
    ],
    [
      'a topic ARN in another region',
      (c: AnyConfig) => {
        c.topology.regions['us-west-2'].aws.snsTopicArn =
          'arn:aws:sns:us-east-1:111122223333:tradepulse-dr-notifications';
      },
      'topology.regions.us-west-2.aws.snsTopicArn: must be arn:aws:sns:us-west-2:111122223333:<topic name>',
    ],
    [
      'a topic ARN in another account',
      (c: AnyConfig) => {
        c.topology.regions['us-west-2'].aws.snsTopicArn = 'arn:aws:sns:us-west-2:999999999999:x';
      },
      'topology.regions.us-west-2.aws.snsTopicArn',
    ],
    [
      'an invalid bucket name',
      (c: AnyConfig) => {
        c.topology.regions['us-east-1'].aws.evidenceBucket = 'Evidence_Bucket';
      },
      'topology.regions.us-east-1.aws.evidenceBucket: must be a valid S3 bucket name',
    ],
    [
      'an event bus given as an ARN',
      (c: AnyConfig) => {
        c.topology.regions['us-east-1'].aws.eventBusName =
          'arn:aws:events:us-east-1:111122223333:event-bus/x';
      },
      'topology.regions.us-east-1.aws.eventBusName',
    ],
    [
      'deployment settings for a region outside the topology',
      (c: AnyConfig) => {
        c.regions['eu-west-1'] = {};
      },
      "regions.eu-west-1: 'eu-west-1' is not one of topology.regions",
    ],
    [
      'a subnet in another region',
      (c: AnyConfig) => {
        c.regions['us-west-2'].vpc.subnets[1].availabilityZone = 'us-east-1b';
      },
      'regions.us-west-2.vpc.subnets.1.availabilityZone: must be an availability zone of us-west-2',
    ],
    [
      'a VPC without security groups',
      (c: AnyConfig) => {
        c.regions['us-west-2'].vpc.securityGroupIds = [];
      },
      'regions.us-west-2.vpc.securityGroupIds: at least one security group',
    ],
    [
      'a KMS key of another region',
      (c: AnyConfig) => {
        c.regions['us-west-2'].kmsKeyArn =
          'arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-1111-2222-3333-444455556666';
      },
      'regions.us-west-2.kmsKeyArn: must be a key in us-west-2',
    ],
    [
      'a log retention CloudWatch does not offer',
      (c: AnyConfig) => {
        c.logRetentionDays = 100;
      },
      'logRetentionDays: must be a CloudWatch Logs retention',
    ],
    [
      'an unknown field',
      (c: AnyConfig) => {
        c.aproverPrincipalArns = [];
      },
      'aproverPrincipalArns',
    ],
    [
      'an alarm into a region outside the topology',
      (c: AnyConfig) => {
        c.topology.alarms.x = { sourceRegion: 'us-east-1', targetRegion: 'eu-west-1' };
      },
      'topology.alarms.x.targetRegion: region eu-west-1 is not in regions',
    ],
    [
      'a database secret homed in another region',
      (c: AnyConfig) => {
        c.topology.regions['us-west-2'].postgres.passwordSecretArn =
          'arn:aws:secretsmanager:us-east-1:111122223333:secret:tradepulse/dr-operator-AbCdEf';
      },
      'topology.regions.us-west-2.postgres.passwordSecretArn: must be the secret in us-west-2',
    ],
    [
      'a backup validation cron without ? in day-of-month or day-of-week',
      (c: AnyConfig) => {
        c.backupValidation = { scheduleExpression: 'cron(0 3 * * * *)' };
      },
      'backupValidation.scheduleExpression: must be an EventBridge Scheduler cron expression',
    ],
    [
      'a backup validation schedule that is a rate',
      (c: AnyConfig) => {
        c.backupValidation = { scheduleExpression: 'rate(1 day)' };
      },
      'backupValidation.scheduleExpression',
    ],
    [
      'an unknown time zone',
      (c: AnyConfig) => {
        c.backupValidation = { timezone: 'Mars/Olympus' };
      },
      'backupValidation.timezone: must be an IANA time zone',
    ],
    [
      'a backup validation interval CloudWatch cannot alarm on',
      (c: AnyConfig) => {
        c.backupValidation = { expectedIntervalHours: 168 };
      },
      'backupValidation.expectedIntervalHours',
    ],
  ])('rejects %s, naming the field', (_what, change, expected) => {
    expect(messageOf(withChange(change))).toContain(expected);
  });

  test('every problem is reported at once', () => {
    const message = messageOf(
      withChange((c) => {
        c.account = 'x';
        c.approverPrincipalArns = [];
      }),
    );
    expect(message).toContain('account:');
    expect(message).toContain('approverPrincipalArns:');
  });

  test('known regions are the commercial partition’s', () => {
    expect(KNOWN_REGIONS).toEqual(expect.arrayContaining(['us-east-1', 'us-west-2', 'eu-west-1']));
    expect(KNOWN_REGIONS).not.toContain('cn-north-1');
  });
});

describe('loading the config file (bin/config.ts)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tradepulse-dr-config-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('reads and validates the sample file', () => {
    expect(loadDeploymentConfig(SAMPLE_CONFIG_FILE).topology.application).toBe('tradepulse');
  });

  test('a missing file and invalid JSON are errors that name the file', () => {
    expect(() => loadDeploymentConfig(path.join(dir, 'absent.json'))).toThrow(
      /Cannot read the deployment config .*absent\.json/,
    );
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, '{ "account": ');
    expect(() => loadDeploymentConfig(broken)).toThrow(/broken\.json is not valid JSON/);
  });

  test('`cdk synth` with a bad config exits non-zero and prints the field, before any bundling', () => {
    const bad = path.join(dir, 'one-region.json');
    fs.writeFileSync(
      bad,
      JSON.stringify(
        withChange((c) => {
          delete c.topology.regions['us-west-2'];
          delete c.regions['us-west-2'];
        }),
      ),
    );
    const outdir = path.join(dir, 'cdk.out');
    const started = Date.now();
    const result = spawnSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ config: bad }) },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`Invalid deployment config ${bad}:`);
    expect(result.stderr).toContain('topology.regions: at least two regions');
    expect(result.stderr).not.toContain('    at ');
    expect(fs.existsSync(path.join(outdir, 'manifest.json'))).toBe(false);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
