/**
 * The audit export on real servers: a sandbox of its own (it writes rows the reconciliation
 * tests must not see) — PostgreSQL with the trading schema, moto's KMS (real AES-GCM data
 * keys) and its Object-Lock evidence bucket. Exports round-trip byte for byte, locks read
 * back, tampering and wrong keys are refused, and bad input or a failed archive leaves
 * nothing behind, locally or in the bucket.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import pg from 'pg';
import { awsClientConfig } from '../../lambdas/shared/adapters/aws/clients';
import { ManifestMismatchError } from '../../lambdas/shared/manifest';
import { parseCsv } from '../../integrity/audit-export/csv';
import { KmsDataKeyProvider } from '../../integrity/audit-export/data-keys';
import {
  AuditExportArchiveError,
  AuditExportIntegrityError,
  AuditExportKeyError,
} from '../../integrity/audit-export/errors';
import {
  exportAuditTables,
  writePlainCsv,
  type AuditExportResult,
} from '../../integrity/audit-export/export';
import { parseWindow, type AuditTable, type ExportWindow } from '../../integrity/audit-export/tables';
import { verifyAuditExport } from '../../integrity/audit-export/verify';
import { REPO_ROOT } from '../../sandbox/sandbox';
import { POSTGRES_DATABASE, POSTGRES_OPERATOR } from '../../sandbox/postgres';
import { useFreshSandbox } from './fresh-sandbox';

const sandbox = useFreshSandbox('audit-export', 26400);
const WINDOW = parseWindow('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z');
/** A window of 40,000 orders: its encrypted CSV is larger than one 5 MiB part. */
const BULK_WINDOW = parseWindow('2026-02-01T00:00:00Z', '2026-02-02T00:00:00Z');
const BULK_ORDERS = 40_000;
const PART = 5 * 1024 * 1024;

/** Values that need RFC 4180 quoting, or that a careless exporter would change. */
const NASTY_KEYS = [
  'comma, inside',
  'say "hello"',
  'line\nbreak',
  'crlf\r\ninside',
  '"',
  ' leading and trailing spaces ',
  'ünïcödé ✓ 取引',
  'tab\there',
];

let work: string;
let db: pg.Client;
let s3: S3Client;
let kms: KMSClient;
let region: string;
let bucket: string;
let keyArn: string;
let dataKeys: KmsDataKeyProvider;

const postgres = () => ({
  host: '127.0.0.1',
  port: sandbox().primary.postgres.port,
  database: POSTGRES_DATABASE,
  user: POSTGRES_OPERATOR,
});

async function plainCsv(table: AuditTable, window: ExportWindow): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await db.query('begin transaction isolation level repeatable read, read only');
  try {
    await writePlainCsv(
      db,
      table,
      window,
      new Writable({
        write(chunk, _e, done) {
          chunks.push(chunk as Buffer);
          done();
        },
      }),
    );
  } finally {
    await db.query('commit');
  }
  return Buffer.concat(chunks);
}

async function versionsUnder(prefix: string, inBucket = bucket): Promise<string[]> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: inBucket, Prefix: prefix }));
  return [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].map((v) => `${v.Key}@${v.VersionId}`);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * What an attacker who can write the files but not use the KMS key can do: change the
 * evidence record, then make the manifest agree with every file in the directory.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function rewriteConsistently(dir: string, edit: (evidence: any) => void): void {
  const evidencePath = path.join(dir, 'evidence.json');
  const evidence = JSON.parse(fs.readFileSync(evidencePath, 'utf8'));
  edit(evidence);
  fs.writeFileSync(evidencePath, `${JSON.stringify(evidence, null, 2)}\n`);
  const manifestPath = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  for (const f of manifest.files) {
    const bytes = fs.readFileSync(path.join(dir, f.path));
    Object.assign(f, { size: bytes.length, sha256: sha256(bytes) });
    delete f.parts;
  }
  fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
}

/** Everything under a directory, temporary names included. */
const listing = (dir: string): string[] =>
  fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, withFileTypes: false }).map(String).sort() : [];

function cli(...args: string[]) {
  const run = spawnSync(
    path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
    ['integrity/audit-export/cli.ts', ...args],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-export-it-'));
  const endpoints = sandbox();
  region = endpoints.primary.region;
  const resources = endpoints.aws.resources.regional[region]!;
  bucket = resources.evidenceBucket;
  keyArn = resources.kmsKeyArn;
  const config = awsClientConfig({
    region,
    endpoint: endpoints.aws.endpoint,
    credentials: endpoints.aws.credentials,
  });
  s3 = new S3Client({ ...config, forcePathStyle: true });
  kms = new KMSClient(config);
  dataKeys = new KmsDataKeyProvider(kms, keyArn);

  db = new pg.Client(postgres());
  db.on('error', () => {}); // the fresh sandbox may stop before this client is closed
  await db.connect();
  await db.query('begin');
  // Orders in the window, on its edges and outside it; several share a timestamp (ties → order_id).
  const at = [
    '2025-12-31T23:59:59.999999Z', // before: excluded
    '2026-01-01T00:00:00Z', // == from: included
    '2026-01-01T10:00:00.123456Z',
    '2026-01-01T10:00:00.123456Z',
    '2026-01-01T10:00:00.123456Z',
    '2026-01-01T23:59:59.999999Z', // last microsecond: included
    '2026-01-02T00:00:00Z', // == to: excluded
  ];
  const orderIds: string[] = [];
  for (const [i, createdAt] of at.entries()) {
    const r = await db.query<{ order_id: string }>(
      `insert into orders (idempotency_key, writer_id, seq, account_id, symbol, side, order_type, quantity, limit_price, filled_quantity, status, created_at, updated_at)
       values ($1, $2, $3, 'ACC-0001', 'AAPL', 'buy', 'limit', 10, 190.25, 10, 'filled', $4, $4) returning order_id`,
      [`edge-${i}`, i % 2 ? 'it-writer' : null, i % 2 ? i : null, createdAt],
    );
    orderIds.push(r.rows[0]!.order_id);
  }
  for (const [i, key] of NASTY_KEYS.entries()) {
    await db.query(
      `insert into orders (idempotency_key, account_id, symbol, side, order_type, quantity, created_at, updated_at)
       values ($1, 'ACC-0002', 'BTC-USD', 'sell', 'market', 0.00100000, $2, $2)`,
      [key, `2026-01-01T12:00:0${i}.5Z`],
    );
  }
  const inWindow = orderIds[2]!;
  for (let i = 0; i < 5; i += 1)
    await db.query(
      `insert into fills (idempotency_key, order_id, account_id, symbol, side, quantity, price, fee, liquidity, executed_at)
       values ($1, $2, 'ACC-0001', 'AAPL', 'buy', 2, 190.25, 0.01, $3, $4)`,
      [`fill-${i}`, inWindow, i % 2 ? 'maker' : 'taker', `2026-01-01T1${i}:00:00Z`],
    );
  await db.query(
    `insert into fills (idempotency_key, order_id, account_id, symbol, side, quantity, price, liquidity, executed_at)
     values ('fill-late', $1, 'ACC-0001', 'AAPL', 'buy', 1, 190.25, 'taker', '2026-01-02T00:00:00Z')`,
    [inWindow],
  );
  await db.query(
    `insert into risk_events (idempotency_key, account_id, symbol, order_id, event_type, severity, details, created_at) values
       ('risk-1', 'ACC-0001', 'AAPL', $1, 'position_limit_breach', 'critical', $2, '2026-01-01T10:00:01Z'),
       ('risk-2', 'ACC-0003', null, null, 'kill_switch', 'warning', '{}', '2026-01-01T11:00:00Z')`,
    [inWindow, JSON.stringify({ note: 'limit "hard", see\nticket, #42', ratio: 1.25, nested: { ok: true } })],
  );
  // The bulk window, loaded in one statement.
  await db.query(
    `insert into orders (idempotency_key, writer_id, seq, account_id, symbol, side, order_type, quantity, limit_price, created_at, updated_at)
     select 'bulk-' || g, 'bulk-writer', g, 'ACC-0004', 'MSFT', case when g % 2 = 0 then 'buy' else 'sell' end, 'limit',
            (g % 100) + 1, 414.20, timestamptz '2026-02-01T00:00:00Z' + g * interval '1 ms', timestamptz '2026-02-01T00:00:00Z'
       from generate_series(1, $1::int) g`,
    [BULK_ORDERS],
  );
  await db.query('commit');
});

afterAll(async () => {
  await db?.end();
  s3?.destroy();
  kms?.destroy();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('export, archive and verify', () => {
  let result: AuditExportResult;

  beforeAll(async () => {
    result = await exportAuditTables({
      postgres: postgres(),
      tables: ['orders', 'fills', 'risk_events'],
      window: WINDOW,
      dataKeys,
      outDir: path.join(work, 'exports'),
      archive: { s3, bucket, retentionDays: 30 },
    });
  });

  it('publishes the local export: encrypted files, evidence and manifest, nothing else', () => {
    expect(listing(path.join(work, 'exports'))).toEqual(
      [
        result.runId,
        ...['evidence.json', 'fills.csv.enc', 'manifest.json', 'orders.csv.enc', 'risk_events.csv.enc'].map(
          (f) => path.join(result.runId, f),
        ),
      ].sort(),
    );
    const ciphertext = fs.readFileSync(path.join(result.dir, 'orders.csv.enc'));
    expect(ciphertext.includes(Buffer.from('edge-'))).toBe(false);
    expect(result.evidence.tables.map((t) => [t.table, t.rows])).toEqual([
      ['orders', 5 + NASTY_KEYS.length],
      ['fills', 5],
      ['risk_events', 2],
    ]);
    expect(result.evidence.source.windowClosed).toBe(true);
    expect(result.evidence.tables[0]!.encryption).toMatchObject({
      algorithm: 'AES-256-GCM',
      kmsKeyId: keyArn,
      encryptionContext: {
        runId: result.runId,
        table: 'orders',
        windowFrom: WINDOW.from.iso,
        windowTo: WINDOW.to.iso,
      },
    });
  });

  it('round-trips byte for byte: each decrypted CSV equals a fresh plain export', async () => {
    const out = path.join(work, 'decrypted');
    const verified = await verifyAuditExport({
      manifest: { kind: 'local', path: result.manifestPath },
      dataKeys,
      out,
    });
    expect(verified.tables.map((t) => t.table)).toEqual(['orders', 'fills', 'risk_events']);
    for (const table of ['orders', 'fills', 'risk_events'] as const) {
      const decrypted = fs.readFileSync(path.join(out, `${table}.csv`));
      const fresh = await plainCsv(table, WINDOW);
      expect(decrypted.equals(fresh)).toBe(true);
      const evidence = result.evidence.tables.find((t) => t.table === table)!;
      expect(decrypted.length).toBe(evidence.plaintext.size);
    }
    expect(listing(out)).toEqual(['fills.csv', 'orders.csv', 'risk_events.csv']);
  });

  it('the CSV holds exactly the rows of [from, to) in (time, key) order, every value as stored', async () => {
    const csv = parseCsv(fs.readFileSync(path.join(work, 'decrypted', 'orders.csv'), 'utf8'));
    const [header, ...rows] = csv;
    expect(header).toEqual([
      'order_id',
      'idempotency_key',
      'writer_id',
      'seq',
      'account_id',
      'symbol',
      'side',
      'order_type',
      'time_in_force',
      'quantity',
      'limit_price',
      'filled_quantity',
      'status',
      'created_at',
      'updated_at',
    ]);
    const expected = await db.query<{
      order_id: string;
      idempotency_key: string;
      limit_price: string | null;
      created_at: string;
    }>(
      `select order_id, idempotency_key, limit_price::text, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at
         from orders where created_at >= $1 and created_at < $2 order by created_at, order_id`,
      [WINDOW.from.iso, WINDOW.to.iso],
    );
    expect(rows.map((r) => [r[0], r[1], r[10], r[13]])).toEqual(
      expected.rows.map((r) => [r.order_id, r.idempotency_key, r.limit_price, r.created_at]),
    );
    const keys = rows.map((r) => r[1]);
    expect(keys).toEqual(expect.arrayContaining([...NASTY_KEYS, 'edge-1', 'edge-5']));
    expect(keys).not.toContain('edge-0'); // before from
    expect(keys).not.toContain('edge-6'); // == to
    expect(rows.find((r) => r[1] === 'edge-1')![13]).toBe('2026-01-01T00:00:00.000000Z');
    expect(rows.find((r) => r[1] === 'edge-5')![13]).toBe('2026-01-01T23:59:59.999999Z');
    // NULL is an empty field, the exact numeric text is kept.
    const market = rows.find((r) => r[1] === 'comma, inside')!;
    expect([market[2], market[9], market[10]]).toEqual([null, '0.00100000', null]);
    const risk = parseCsv(fs.readFileSync(path.join(work, 'decrypted', 'risk_events.csv'), 'utf8'));
    expect(JSON.parse(risk[1]![9]!)).toEqual({
      note: 'limit "hard", see\nticket, #42',
      ratio: 1.25,
      nested: { ok: true },
    });
  });

  it('every archived object carries COMPLIANCE retention (read back with HeadObject) and cannot be deleted', async () => {
    const archive = result.archive!;
    const objects = [...Object.values(archive.objects), archive.manifest];
    expect(objects).toHaveLength(5);
    const floor = Date.now() + 29 * 86_400_000;
    for (const object of objects) {
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: bucket, Key: object.key, VersionId: object.versionId }),
      );
      expect([object.key, head.ObjectLockMode]).toEqual([object.key, 'COMPLIANCE']);
      expect(head.ObjectLockRetainUntilDate!.getTime()).toBeGreaterThan(floor);
      expect(head.ObjectLockRetainUntilDate!.toISOString()).toBe(object.retainUntil);
      await expect(
        s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.key, VersionId: object.versionId })),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
    }
    expect(archive.manifest.lockAppliedWith).toBe('PutObject');
    expect(archive.objects['orders.csv.enc']!.lockAppliedWith).toBe('PutObjectRetention');
  });

  it('verifies from the bucket, pinned to the recorded versions even after a new version is written over a file', async () => {
    const key = result.archive!.objects['orders.csv.enc']!.key;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'not the export' }));
    const verified = await verifyAuditExport({
      manifest: { kind: 's3', s3, bucket, key: result.archive!.manifestKey },
      dataKeys,
    });
    expect(verified.tables.map((t) => [t.table, t.rows])).toEqual([
      ['orders', 5 + NASTY_KEYS.length],
      ['fills', 5],
      ['risk_events', 2],
    ]);
    expect(Object.keys(verified.locks!).sort()).toEqual([
      'evidence.json',
      'fills.csv.enc',
      'manifest.json',
      'orders.csv.enc',
      'risk_events.csv.enc',
    ]);
    expect(Object.values(verified.locks!).every((l) => l.mode === 'COMPLIANCE')).toBe(true);
    expect(verified.locks!['orders.csv.enc']!.versionId).toBe(
      result.archive!.objects['orders.csv.enc']!.versionId,
    );
  });

  it('refuses a manifest version in the bucket that is not under Object Lock (e.g. a newer, forged one)', async () => {
    const key = result.archive!.manifestKey;
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.readFileSync(result.manifestPath) }),
    );
    await expect(verifyAuditExport({ manifest: { kind: 's3', s3, bucket, key }, dataKeys })).rejects.toThrow(
      /not under Object Lock COMPLIANCE retention, so not a published audit export: s3:\/\/.*\/manifest\.json \(version .*, mode none\)/,
    );
    // The published version, named by its id, still verifies.
    const pinned = await verifyAuditExport({
      manifest: { kind: 's3', s3, bucket, key, versionId: result.archive!.manifest.versionId! },
      dataKeys,
    });
    expect(pinned.runId).toBe(result.runId);
  });

  describe('tampering', () => {
    const copyOfExport = (name: string) => {
      const dir = path.join(work, name);
      fs.cpSync(result.dir, dir, { recursive: true });
      return dir;
    };

    it('a flipped ciphertext byte fails verification, and no output file is left', async () => {
      const dir = copyOfExport('tampered-byte');
      const file = path.join(dir, 'orders.csv.enc');
      const bytes = fs.readFileSync(file);
      bytes[bytes.length - 40] = bytes[bytes.length - 40]! ^ 0x04;
      fs.writeFileSync(file, bytes);
      const out = path.join(work, 'tampered-byte-out');
      fs.mkdirSync(out);
      await expect(
        verifyAuditExport({
          manifest: { kind: 'local', path: path.join(dir, 'manifest.json') },
          dataKeys,
          out: path.join(out, 'orders.csv'),
          tables: ['orders'],
        }),
      ).rejects.toThrow(/orders\.csv\.enc: frame 0 \(bytes \d+–\d+\) failed AES-GCM authentication/);
      expect(listing(out)).toEqual([]);
    });

    it('even with the manifest and evidence rewritten to match the altered file, the GCM tag refuses it', async () => {
      const dir = copyOfExport('tampered-consistent');
      const file = path.join(dir, 'fills.csv.enc');
      const bytes = fs.readFileSync(file);
      bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0x80;
      fs.writeFileSync(file, bytes);
      rewriteConsistently(dir, (evidence) => {
        evidence.tables[1].ciphertext.sha256 = sha256(bytes);
      });
      const out = path.join(work, 'consistent-out');
      const attempt = verifyAuditExport({
        manifest: { kind: 'local', path: path.join(dir, 'manifest.json') },
        dataKeys,
        out,
      });
      await expect(attempt).rejects.toThrow(AuditExportIntegrityError);
      await expect(
        verifyAuditExport({
          manifest: { kind: 'local', path: path.join(dir, 'manifest.json') },
          dataKeys,
          out,
        }),
      ).rejects.toThrow(/fills\.csv\.enc: frame 0 .* failed AES-GCM authentication/);
      expect(fs.existsSync(out)).toBe(false);
    });

    it('a manifest that does not match the files names every mismatch', async () => {
      const dir = copyOfExport('mismatch');
      fs.rmSync(path.join(dir, 'risk_events.csv.enc'));
      fs.appendFileSync(path.join(dir, 'fills.csv.enc'), 'x');
      const attempt = verifyAuditExport({
        manifest: { kind: 'local', path: path.join(dir, 'manifest.json') },
        dataKeys,
      });
      await expect(attempt).rejects.toThrow(ManifestMismatchError);
      await expect(
        verifyAuditExport({ manifest: { kind: 'local', path: path.join(dir, 'manifest.json') }, dataKeys }),
      ).rejects.toThrow(
        /fills\.csv\.enc has \d+ bytes, the manifest says \d+; .*risk_events\.csv\.enc is missing/,
      );
    });

    it('an altered evidence record is refused before anything is decrypted', async () => {
      const dir = copyOfExport('evidence-edit');
      const evidencePath = path.join(dir, 'evidence.json');
      fs.writeFileSync(
        evidencePath,
        fs.readFileSync(evidencePath, 'utf8').replace('"rows": 5,', '"rows": 6,'),
      );
      await expect(
        verifyAuditExport({ manifest: { kind: 'local', path: path.join(dir, 'manifest.json') }, dataKeys }),
      ).rejects.toThrow(
        /evidence\.json does not match .*manifest\.json \(sha256\): the evidence record was altered/,
      );
    });
  });

  describe('keys', () => {
    it('verifying under another KMS key fails with a clear error and writes nothing', async () => {
      const other = await kms.send(new CreateKeyCommand({ Description: 'not the evidence key' }));
      const out = path.join(work, 'wrong-key.csv');
      await expect(
        verifyAuditExport({
          manifest: { kind: 'local', path: result.manifestPath },
          dataKeys,
          kmsKeyId: other.KeyMetadata!.Arn!,
          tables: ['orders'],
          out,
        }),
      ).rejects.toThrow(
        new RegExp(
          `KMS refused to decrypt the data key under ${other.KeyMetadata!.Arn!} .*different KMS key`,
        ),
      );
      expect(fs.existsSync(out)).toBe(false);
      expect(listing(work).filter((f) => f.includes('wrong-key'))).toEqual([]);
    });

    it('KMS refuses the data key under an encryption context naming another table or window', async () => {
      const header = JSON.parse(
        (() => {
          const file = fs.readFileSync(path.join(result.dir, 'orders.csv.enc'));
          return file.subarray(12, 12 + file.readUInt32BE(8)).toString();
        })(),
      );
      const encrypted = Buffer.from(header.kms.encryptedDataKey, 'base64');
      const right = header.kms.encryptionContext;
      await expect(
        dataKeys.decryptDataKey({ encrypted, context: right, keyId: keyArn }),
      ).resolves.toHaveLength(32);
      for (const wrong of [
        { ...right, table: 'fills' },
        { ...right, windowTo: '2026-01-03T00:00:00.000000Z' },
      ])
        await expect(dataKeys.decryptDataKey({ encrypted, context: wrong, keyId: keyArn })).rejects.toThrow(
          /KMS refused to decrypt the data key \(InvalidCiphertextException\): .* encryption context/,
        );
    });

    it('a file swapped in from elsewhere is refused by its encryption context, even with manifest and evidence rewritten', async () => {
      const dir = path.join(work, 'swapped');
      fs.cpSync(result.dir, dir, { recursive: true });
      // The fills file under the orders name: a genuine file of this run, sealed for table=fills.
      fs.copyFileSync(path.join(result.dir, 'fills.csv.enc'), path.join(dir, 'orders.csv.enc'));
      rewriteConsistently(dir, (evidence) => {
        const [orders, fills] = evidence.tables;
        orders.ciphertext = fills.ciphertext;
        orders.plaintext = fills.plaintext;
        orders.rows = fills.rows;
        orders.encryption = { ...fills.encryption, encryptionContext: orders.encryption.encryptionContext };
      });
      const out = path.join(work, 'swapped-out');
      await expect(
        verifyAuditExport({
          manifest: { kind: 'local', path: path.join(dir, 'manifest.json') },
          dataKeys,
          out,
        }),
      ).rejects.toThrow(
        /orders\.csv\.enc: the file's encryption context \{.*table=fills.*\} names another export than \{.*table=orders/,
      );
      expect(fs.existsSync(out)).toBe(false);
    });
  });
});

describe('multipart archive', () => {
  it('a file larger than one part goes up in parts and is locked with PutObjectRetention (moto ignores multipart lock headers)', async () => {
    const result = await exportAuditTables({
      postgres: postgres(),
      tables: ['orders'],
      window: BULK_WINDOW,
      dataKeys,
      outDir: path.join(work, 'bulk'),
      partSize: PART,
      archive: { s3, bucket, retentionDays: 1 },
    });
    const entry = result.manifest.files.find((f) => f.path === 'orders.csv.enc')!;
    expect(result.evidence.tables[0]!.rows).toBe(BULK_ORDERS);
    expect(entry.size).toBeGreaterThan(PART);
    expect(entry.parts!.length).toBe(Math.ceil(entry.size / PART));
    const object = result.archive!.objects['orders.csv.enc']!;
    expect(object).toMatchObject({
      upload: 'multipart',
      lockAppliedWith: 'PutObjectRetention',
      objectLockMode: 'COMPLIANCE',
    });
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: object.key, VersionId: object.versionId }),
    );
    expect(head.ObjectLockMode).toBe('COMPLIANCE');
    expect(head.ContentLength).toBe(entry.size);
    await expect(
      s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.key, VersionId: object.versionId })),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
    const out = path.join(work, 'bulk-orders.csv');
    await verifyAuditExport({
      manifest: { kind: 's3', s3, bucket, key: result.archive!.manifestKey },
      dataKeys,
      out,
    });
    expect(fs.readFileSync(out).equals(await plainCsv('orders', BULK_WINDOW))).toBe(true);
  });
});

describe('nothing left behind', () => {
  it('an archive that fails before the locks (a bucket without Object Lock) removes every version and the local staging', async () => {
    const plainBucket = `audit-export-no-lock-${Date.now()}`;
    await s3.send(new CreateBucketCommand({ Bucket: plainBucket }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: plainBucket, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const outDir = path.join(work, 'no-lock');
    const attempt = exportAuditTables({
      postgres: postgres(),
      tables: ['orders', 'fills'],
      window: WINDOW,
      dataKeys,
      outDir,
      runId: 'no-lock-run',
      archive: { s3, bucket: plainBucket },
    });
    await expect(attempt).rejects.toThrow(AuditExportArchiveError);
    await expect(attempt).rejects.toThrow(
      /Bucket is missing ObjectLockConfiguration\nNothing was published: the 3 object version\(s\) uploaded were deleted/,
    );
    expect(listing(outDir)).toEqual([]);
    expect(await versionsUnder('disaster-recovery/audit-exports/no-lock-run/', plainBucket)).toEqual([]);
  });

  it('an unknown KMS key fails before anything is written', async () => {
    const outDir = path.join(work, 'no-key');
    await expect(
      exportAuditTables({
        postgres: postgres(),
        tables: ['orders'],
        window: WINDOW,
        dataKeys: new KmsDataKeyProvider(kms, 'alias/no-such-key'),
        outDir,
        runId: 'no-key-run',
        archive: { s3, bucket },
      }),
    ).rejects.toThrow(AuditExportKeyError);
    expect(fs.existsSync(outDir)).toBe(false);
    expect(await versionsUnder('disaster-recovery/audit-exports/no-key-run/')).toEqual([]);
  });

  it.each([
    [['--table', 'trades', '--from', '2026-01-01', '--to', '2026-01-02'], "unknown table 'trades'"],
    [
      ['--table', 'orders', '--from', '2026-01-02', '--to', '2026-01-01'],
      'the window is backwards: from 2026-01-02T00:00:00.000000Z must be before to 2026-01-01T00:00:00.000000Z',
    ],
    [
      ['--table', 'all', '--from', '2026-01-01T00:00:00', '--to', '2026-01-02'],
      "from '2026-01-01T00:00:00' is not an ISO-8601 instant (a time needs Z or an offset",
    ],
    [
      ['--table', 'all', '--from', '01/01/2026', '--to', '2026-01-02'],
      "from '01/01/2026' is not an ISO-8601 instant",
    ],
  ])('CLI export %j: exit 2, a clear error, nothing written', (args, message) => {
    const outDir = path.join(work, 'cli-bad');
    const run = cli(
      'export',
      ...args,
      '--pg-port',
      String(sandbox().primary.postgres.port),
      '--bucket',
      bucket,
      '--out',
      outDir,
      '--run-id',
      'cli-bad-run',
    );
    expect(run.stderr).toContain(message);
    expect(run.status).toBe(2);
    expect(fs.existsSync(outDir)).toBe(false);
  });

  it('no CLI bad-input run put anything in the bucket', async () => {
    expect(await versionsUnder('disaster-recovery/audit-exports/cli-bad-run/')).toEqual([]);
  });
});

describe('CLI', () => {
  it('exports, verifies, and refuses a tampered copy (exit 3, no output)', async () => {
    const outDir = path.join(work, 'cli');
    const port = String(sandbox().primary.postgres.port);
    const exported = cli(
      'export',
      '--table',
      'fills',
      '--from',
      '2026-01-01',
      '--to',
      '2026-01-02',
      '--pg-port',
      port,
      '--bucket',
      bucket,
      '--out',
      outDir,
      '--run-id',
      'cli-run',
    );
    expect([exported.status, exported.stderr]).toEqual([0, expect.stringContaining('published')]);
    expect(exported.stdout).toContain('fills                5 rows');
    const manifest = path.join(outDir, 'cli-run', 'manifest.json');

    const csv = path.join(work, 'cli-fills.csv');
    const verified = cli('verify', '--manifest', manifest, '--out', csv);
    expect([verified.status, verified.stdout]).toEqual([
      0,
      expect.stringContaining('verified export cli-run'),
    ]);
    expect(fs.readFileSync(csv).equals(await plainCsv('fills', WINDOW))).toBe(true);

    const fromBucket = cli(
      'verify',
      '--manifest',
      `s3://${bucket}/disaster-recovery/audit-exports/cli-run/manifest.json`,
      '--port-base',
      port,
    );
    expect(fromBucket.status).toBe(0);
    expect(fromBucket.stdout).toContain(
      'all 3 object versions read are under Object Lock COMPLIANCE retention',
    );

    const file = path.join(outDir, 'cli-run', 'fills.csv.enc');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    fs.writeFileSync(file, bytes);
    const tampered = cli('verify', '--manifest', manifest, '--out', path.join(work, 'cli-tampered.csv'));
    expect(tampered.status).toBe(3);
    expect(tampered.stderr).toMatch(
      /error: AuditExportIntegrityError: .*fills\.csv\.enc: frame 0 .* failed AES-GCM authentication/,
    );
    expect(fs.existsSync(path.join(work, 'cli-tampered.csv'))).toBe(false);
    expect(listing(work).filter((f) => f.includes('cli-tampered'))).toEqual([]);
  });
});
