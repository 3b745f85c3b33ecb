import {
  decideRebuild,
  historyFileName,
  parseControlData,
  parseTimelineHistory,
  standbyAutoConf,
  standbyNameFor,
  type ControlData,
} from '../../../lambdas/shared/adapters/postgres/rebuild-plan';

const CONTROLDATA = `pg_control version number:            1300
Catalog version number:               202209061
Database system identifier:           7441234567890123456
Database cluster state:               shut down
pg_control last modified:             Fri 27 Nov 2026 04:38:37 AM UTC
Latest checkpoint location:           0/3030EE0
Latest checkpoint's REDO location:    0/3030EE0
Latest checkpoint's TimeLineID:       1
wal_log_hints setting:                on
Data page checksum version:           1
`;

const control = (overrides: Partial<ControlData> = {}): ControlData => ({
  ...parseControlData(CONTROLDATA),
  ...overrides,
});

const primary = {
  systemIdentifier: '7441234567890123456',
  timeline: 2,
  history: parseTimelineHistory('1\t0/302C550\tno recovery target specified\n'),
};

describe('pg_controldata and timeline history', () => {
  test('reads the fields the rebuild needs', () => {
    expect(parseControlData(CONTROLDATA)).toMatchObject({
      systemIdentifier: '7441234567890123456',
      clusterState: 'shut down',
      latestCheckpointLsn: '0/3030EE0',
      timeline: 1,
      dataChecksums: true,
      walLogHints: true,
    });
  });

  test('rejects output that is not pg_controldata', () => {
    expect(() => parseControlData('pg_controldata: fatal: could not open file')).toThrow(
      /not pg_controldata/,
    );
  });

  test('parses history lines and names history files in hex', () => {
    expect(
      parseTimelineHistory('# comment\n1\t0/5000060\tno recovery target specified\n2\t0/7000000\tbefore x\n'),
    ).toEqual([
      { parent: 1, switchpoint: '0/5000060', reason: 'no recovery target specified' },
      { parent: 2, switchpoint: '0/7000000', reason: 'before x' },
    ]);
    expect(() => parseTimelineHistory('one\t0/5\n')).toThrow(/malformed/);
    expect(() => parseTimelineHistory('1\tnot-an-lsn\n')).toThrow(/LSN/);
    expect(historyFileName(2)).toBe('00000002.history');
    expect(historyFileName(26)).toBe('0000001A.history');
  });
});

describe('choosing pg_rewind or pg_basebackup', () => {
  test('a diverged old primary of the same system is rewound, with the divergence point', () => {
    const d = decideRebuild({ replica: { control: control() }, replicaEndLsn: '0/3030EE0', primary });
    expect(d.method).toBe('pg_rewind');
    expect(d.divergence).toEqual({
      timeline: 1,
      switchpoint: '0/302C550',
      replicaEndLsn: '0/3030EE0',
      diverged: true,
    });
    expect(d.reason).toMatch(/diverged, pg_rewind rewinds it to 0\/302C550/);
  });

  test('an old primary that stopped before the switch is reported as not diverged', () => {
    const d = decideRebuild({ replica: { control: control() }, replicaEndLsn: '0/3000000', primary });
    expect(d.method).toBe('pg_rewind');
    expect(d.divergence?.diverged).toBe(false);
    expect(d.reason).toMatch(/no divergence/);
  });

  test('a different database system, or hint bits not WAL-logged, takes a base backup', () => {
    const other = decideRebuild({
      replica: { control: control({ systemIdentifier: '1' }) },
      replicaEndLsn: null,
      primary,
    });
    expect(other.method).toBe('pg_basebackup');
    expect(other.reason).toMatch(/different database system/);
    const noHints = decideRebuild({
      replica: { control: control({ dataChecksums: false, walLogHints: false }) },
      replicaEndLsn: null,
      primary,
    });
    expect(noHints.method).toBe('pg_basebackup');
    expect(noHints.reason).toMatch(/wal_log_hints/);
  });

  test('an unreadable control file takes a base backup', () => {
    const d = decideRebuild({ replica: { controlError: 'No such file' }, replicaEndLsn: null, primary });
    expect(d).toMatchObject({ method: 'pg_basebackup', divergence: null });
    expect(d.reason).toMatch(/No such file/);
  });

  test('a forced method is honoured, and a forced pg_rewind that cannot work is refused', () => {
    expect(
      decideRebuild({
        forced: 'pg_basebackup',
        replica: { control: control() },
        replicaEndLsn: null,
        primary,
      }).method,
    ).toBe('pg_basebackup');
    expect(() =>
      decideRebuild({
        forced: 'pg_rewind',
        replica: { control: control({ systemIdentifier: '1' }) },
        replicaEndLsn: null,
        primary,
      }),
    ).toThrow(/pg_rewind requested but it cannot be used/);
  });

  test('a timeline the new primary never had is said so', () => {
    const d = decideRebuild({ replica: { control: control({ timeline: 3 }) }, replicaEndLsn: null, primary });
    expect(d.method).toBe('pg_rewind');
    expect(d.reason).toMatch(/not in the new primary's history/);
  });
});

describe("the standby's postgresql.auto.conf", () => {
  const settings = {
    port: 26600,
    primaryHost: '127.0.0.1',
    primaryPort: 26601,
    replicationUser: 'replicator',
    applicationName: 'standby_us_east_1',
    slotName: 'standby_us_east_1',
  };

  test("drops the fence and the new primary's own settings, keeps the rest, adds the standby's", () => {
    const previous = [
      '# Do not edit this file manually!',
      '# It will be overwritten by the ALTER SYSTEM command.',
      "port = '26601'",
      "primary_conninfo = 'host=127.0.0.1 port=26600 user=replicator application_name=standby_secondary'",
      "primary_slot_name = 'standby_secondary'",
      "default_transaction_read_only = 'on'",
      "work_mem = '8MB'",
      "synchronous_standby_names = 'FIRST 1 (standby_secondary)'",
    ].join('\n');
    const conf = standbyAutoConf(previous, settings);
    expect(conf).not.toMatch(/default_transaction_read_only/);
    expect(conf).not.toMatch(/standby_secondary/);
    expect(conf).toMatch(/^work_mem = '8MB'$/m);
    expect(conf).toMatch(/^port = 26600$/m);
    expect(conf).toMatch(
      /^primary_conninfo = 'host=127\.0\.0\.1 port=26601 user=replicator application_name=standby_us_east_1'$/m,
    );
    expect(conf).toMatch(/^primary_slot_name = 'standby_us_east_1'$/m);
    expect(conf).toMatch(/^synchronous_standby_names = ''$/m);
    expect(conf.match(/Do not edit/g)).toHaveLength(1);
  });

  test('is written from nothing when there was no file, and quotes what it writes', () => {
    const conf = standbyAutoConf(null, { ...settings, replicationUser: "o'neil" });
    expect(conf).toMatch(/user=o''neil/);
    expect(standbyAutoConf(conf, settings)).toBe(standbyAutoConf(null, settings));
  });

  test('names standbys after their region', () => {
    expect(standbyNameFor('us-east-1')).toBe('standby_us_east_1');
  });
});
