import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsCall, awsErrorName } from '../../lambdas/shared/adapters/aws/aws-call';
import {
  ManifestInvalidError,
  ManifestMismatchError,
  compareWithEntry,
  parseManifest,
  type Manifest,
  type ManifestFile,
  type ManifestMismatch,
} from '../../lambdas/shared/manifest';
import { CsvRecordScanner } from './csv';
import type { DataKeyProvider } from './data-keys';
import { AuditExportIntegrityError, InvalidInputError } from './errors';
import {
  EVIDENCE_FILE,
  encryptionContextFor,
  fileNameFor,
  manifestMetadata,
  parseEvidence,
  type Evidence,
  type ManifestMetadata,
  type TableEvidence,
} from './evidence';
import { FrameDecryptor, type EncryptionContext } from './framing';
import { HashTap, discard } from '../../lambdas/shared/envelope/hash-tap';
import { parseInstant, type AuditTable, type ExportWindow } from './tables';

/** Where an export's files are read from: a local directory or an S3 prefix. */
export interface ExportFileSource {
  /** How a file is named in messages: a local path or an s3:// URL. */
  describe(file: string): string;
  /** Size in bytes (and, in S3, the version's Object Lock), or null when the file does not exist. */
  stat(file: string): Promise<{ size: number; lock?: ObjectLockState } | null>;
  open(file: string): Promise<Readable>;
}

/** An S3 object version's Object Lock as HeadObject reports it. */
export interface ObjectLockState {
  versionId?: string;
  mode?: string;
  retainUntil?: string;
}

export function localSource(dir: string): ExportFileSource {
  const at = (file: string) => path.join(dir, file);
  return {
    describe: at,
    async stat(file) {
      try {
        const stat = await fs.promises.stat(at(file));
        return stat.isFile() ? { size: stat.size } : null;
      } catch {
        return null;
      }
    },
    async open(file) {
      return fs.createReadStream(at(file));
    },
  };
}

const lockState = (head: {
  VersionId?: string;
  ObjectLockMode?: string;
  ObjectLockRetainUntilDate?: Date;
}): ObjectLockState => ({
  ...(head.VersionId ? { versionId: head.VersionId } : {}),
  ...(head.ObjectLockMode ? { mode: head.ObjectLockMode } : {}),
  ...(head.ObjectLockRetainUntilDate ? { retainUntil: head.ObjectLockRetainUntilDate.toISOString() } : {}),
});

/** An S3 prefix; `versions` pins each file to the object version the manifest recorded. */
export function s3Source(
  s3: S3Client,
  bucket: string,
  prefix: string,
  versions: Record<string, string | undefined> = {},
): ExportFileSource {
  const key = (file: string) => `${prefix}${file}`;
  const version = (file: string) => (versions[file] ? { VersionId: versions[file] } : {});
  return {
    describe: (file) => `s3://${bucket}/${key(file)}`,
    async stat(file) {
      try {
        const head = await awsCall(() =>
          s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key(file), ...version(file) })),
        );
        return { size: head.ContentLength ?? 0, lock: lockState(head) };
      } catch (err) {
        if (['NotFound', 'NoSuchKey', 'NoSuchVersion'].includes(awsErrorName(err) ?? '')) return null;
        throw err;
      }
    },
    async open(file) {
      const out = await awsCall(() =>
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: key(file), ...version(file) })),
      );
      return out.Body as Readable;
    },
  };
}

export interface VerifiedTable {
  table: AuditTable;
  file: string;
  rows: number;
  frames: number;
  plaintext: { size: number; sha256: string };
  ciphertext: { size: number; sha256: string };
  /** Where the verified CSV was written, when it was. */
  output?: string;
}

/** Counts CSV records passing through (the header is one of them). */
class RecordCounter extends Transform {
  readonly scanner = new CsvRecordScanner();
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.scanner.scan(chunk);
    done(null, chunk);
  }
}

const sameContext = (a: EncryptionContext, b: EncryptionContext) => {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
};
const contextText = (c: EncryptionContext) =>
  `{${Object.entries(c)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')}}`;

export function windowOf(evidence: Pick<Evidence, 'window'>): ExportWindow {
  return { from: parseInstant(evidence.window.from, 'from'), to: parseInstant(evidence.window.to, 'to') };
}

/**
 * Decrypts one encrypted export file as it streams and proves it: the header is the one the
 * evidence names (key, encryption context of this run/table/window, header SHA-256), KMS
 * decrypts the data key under the expected key and context, every frame's GCM tag holds,
 * and at the end the ciphertext matches its manifest entry (size, SHA-256, parts) and the
 * plaintext its evidence (size, SHA-256, rows). Plaintext goes to `sink` frame by frame,
 * only after each frame authenticated; the caller keeps it under a temporary name until
 * this resolves.
 */
export async function verifyTableFile(opts: {
  input: Readable;
  name: string;
  entry: ManifestFile;
  evidence: TableEvidence;
  runId: string;
  window: ExportWindow;
  dataKeys: DataKeyProvider;
  /** Decrypt under this KMS key instead of the one the evidence names. */
  kmsKeyId?: string;
  sink?: Writable;
}): Promise<VerifiedTable> {
  const { evidence, name } = opts;
  const expectedContext = encryptionContextFor(opts.runId, evidence.table, opts.window);
  const cipherTap = new HashTap(opts.entry.parts ? { partSizes: opts.entry.parts.map((p) => p.size) } : {});
  const decryptor = new FrameDecryptor({
    source: name,
    unwrapKey: async ({ header, bytes }) => {
      const headerSha = createHash('sha256').update(bytes).digest('hex');
      const context = header.kms.encryptionContext;
      if (!sameContext(context, expectedContext))
        throw new AuditExportIntegrityError(
          `${name}: the file's encryption context ${contextText(context)} names another export than ${contextText(expectedContext)}`,
          { source: name, found: context, expected: expectedContext },
        );
      if (header.kms.keyId !== evidence.encryption.kmsKeyId)
        throw new AuditExportIntegrityError(
          `${name}: the file's data key is under KMS key ${header.kms.keyId}, the evidence record names ${evidence.encryption.kmsKeyId}`,
          { source: name },
        );
      if (headerSha !== evidence.encryption.headerSha256)
        throw new AuditExportIntegrityError(
          `${name}: the envelope header (SHA-256 ${headerSha}) is not the one the evidence record names (${evidence.encryption.headerSha256})`,
          { source: name },
        );
      return opts.dataKeys.decryptDataKey({
        encrypted: Buffer.from(header.kms.encryptedDataKey, 'base64'),
        context,
        keyId: opts.kmsKeyId ?? header.kms.keyId,
      });
    },
  });
  const plainTap = new HashTap();
  const counter = new RecordCounter();
  await pipeline(opts.input, cipherTap, decryptor, plainTap, counter, opts.sink ?? discard());

  const cipherDigest = {
    size: cipherTap.size,
    sha256: cipherTap.sha256,
    ...(opts.entry.parts ? { parts: cipherTap.parts } : {}),
  };
  const mismatches = compareWithEntry(opts.entry, cipherDigest);
  if (mismatches.length > 0)
    throw new ManifestMismatchError(
      `${name} does not match its manifest entry: ${mismatches.map((m) => `${m.problem}${m.part !== undefined ? ` (part ${m.part})` : ''} expected ${m.expected}, found ${m.actual}`).join('; ')}`,
      mismatches,
    );
  const problems: string[] = [];
  if (plainTap.size !== evidence.plaintext.size)
    problems.push(`plaintext size ${plainTap.size}, evidence says ${evidence.plaintext.size}`);
  if (plainTap.sha256 !== evidence.plaintext.sha256)
    problems.push(`plaintext SHA-256 ${plainTap.sha256}, evidence says ${evidence.plaintext.sha256}`);
  const rows = Math.max(0, counter.scanner.records - 1);
  if (rows !== evidence.rows || counter.scanner.insideQuotedField)
    problems.push(`${rows} data row(s), evidence says ${evidence.rows}`);
  if (decryptor.frames !== evidence.encryption.frames)
    problems.push(`${decryptor.frames} frame(s), evidence says ${evidence.encryption.frames}`);
  if (problems.length > 0)
    throw new AuditExportIntegrityError(`${name}: ${problems.join('; ')}`, { source: name, problems });
  return {
    table: evidence.table,
    file: evidence.file,
    rows,
    frames: decryptor.frames,
    plaintext: { size: plainTap.size, sha256: plainTap.sha256 },
    ciphertext: { size: cipherTap.size, sha256: cipherTap.sha256 },
  };
}

export type ManifestLocation =
  | { kind: 'local'; path: string }
  | { kind: 's3'; s3: S3Client; bucket: string; key: string; versionId?: string };

/** `s3://bucket/key[?versionId=…]` or a local path. */
export function parseManifestLocation(value: string, s3?: S3Client): ManifestLocation {
  if (!value.startsWith('s3://')) return { kind: 'local', path: path.resolve(value) };
  const m = /^s3:\/\/([^/]+)\/(.+?)(?:\?versionId=([^&]+))?$/.exec(value);
  if (!m) throw new InvalidInputError(`--manifest '${value}' is not s3://bucket/key`, { field: 'manifest' });
  if (!s3) throw new InvalidInputError('an s3:// manifest needs an S3 client', { field: 'manifest' });
  return { kind: 's3', s3, bucket: m[1]!, key: m[2]!, ...(m[3] ? { versionId: m[3] } : {}) };
}

const MAX_SMALL_FILE = 16 * 1024 * 1024;

async function readSmall(stream: Readable, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_SMALL_FILE) {
      stream.destroy();
      throw new ManifestInvalidError(
        `${name} is larger than ${MAX_SMALL_FILE} bytes: not an audit export file`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(bytes: Buffer, name: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ManifestInvalidError(`${name} is not valid JSON`, { source: name });
  }
}

export interface LoadedExport {
  /** In S3: every object version read (manifest included) and its Object Lock. */
  locks?: Record<string, ObjectLockState>;
  manifest: Manifest;
  metadata: ManifestMetadata;
  evidence: Evidence;
  source: ExportFileSource;
  manifestName: string;
}

/**
 * Reads the manifest and the evidence record and checks that they and the files agree
 * before anything is decrypted: every file the manifest lists exists with its size, the
 * manifest lists exactly the export's files, the evidence record matches its manifest entry
 * and names the same run, window, tables and ciphertexts.
 */
export async function loadExport(location: ManifestLocation): Promise<LoadedExport> {
  let manifestName: string;
  let raw: Buffer;
  let manifestLock: ObjectLockState | undefined;
  if (location.kind === 'local') {
    manifestName = location.path;
    try {
      raw = await readSmall(fs.createReadStream(location.path), manifestName);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new InvalidInputError(`manifest ${manifestName} does not exist`, { field: 'manifest' });
      throw err;
    }
  } else {
    manifestName = `s3://${location.bucket}/${location.key}`;
    try {
      const out = await awsCall(() =>
        location.s3.send(
          new GetObjectCommand({
            Bucket: location.bucket,
            Key: location.key,
            ...(location.versionId ? { VersionId: location.versionId } : {}),
          }),
        ),
      );
      raw = await readSmall(out.Body as Readable, manifestName);
      manifestLock = lockState(out);
    } catch (err) {
      if (['NoSuchKey', 'NotFound', 'NoSuchBucket', 'NoSuchVersion'].includes(awsErrorName(err) ?? ''))
        throw new InvalidInputError(`manifest ${manifestName} does not exist (${awsErrorName(err)})`, {
          field: 'manifest',
        });
      throw err;
    }
  }
  const manifest = parseManifest(parseJson(raw, manifestName), manifestName);
  const metadata = manifestMetadata(manifest, manifestName);

  let source: ExportFileSource;
  if (location.kind === 'local') source = localSource(path.dirname(location.path));
  else {
    const prefix = location.key.slice(0, location.key.lastIndexOf('/') + 1);
    const versions = Object.fromEntries(
      Object.entries(metadata.archive?.objects ?? {}).map(([file, o]) => [file, o.versionId]),
    );
    source = s3Source(location.s3, location.bucket, prefix, versions);
  }

  // The manifest must list exactly the export's files.
  const expected = [...metadata.tables.map(fileNameFor), EVIDENCE_FILE];
  const listed = manifest.files.map((f) => f.path);
  const unexpected = listed.filter((p) => !expected.includes(p));
  const unlisted = expected.filter((p) => !listed.includes(p));
  if (unexpected.length > 0 || unlisted.length > 0)
    throw new ManifestInvalidError(
      `${manifestName} does not list the files of an export of ${metadata.tables.join(', ')}: ` +
        [
          unlisted.length ? `missing ${unlisted.join(', ')}` : '',
          unexpected.length ? `unexpected ${unexpected.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; '),
      { source: manifestName },
    );

  // Every listed file is there, with its size, before any of it is read.
  const mismatches: ManifestMismatch[] = [];
  const locks: Record<string, ObjectLockState> = {};
  for (const file of manifest.files) {
    const stat = await source.stat(file.path);
    if (stat === null) mismatches.push({ path: file.path, problem: 'missing' });
    else if (stat.size !== file.size)
      mismatches.push({ path: file.path, problem: 'size', expected: file.size, actual: stat.size });
    if (stat?.lock) locks[file.path] = stat.lock;
  }
  if (mismatches.length > 0)
    throw new ManifestMismatchError(
      `the files do not match ${manifestName}: ${mismatches
        .map(
          (m) =>
            `${source.describe(m.path)} ${m.problem === 'missing' ? 'is missing' : `has ${m.actual} bytes, the manifest says ${m.expected}`}`,
        )
        .join('; ')}`,
      mismatches,
    );

  // An archived export is only evidence while it is immutable: every version read must be locked.
  if (location.kind === 's3') {
    locks[path.basename(location.key)] = manifestLock ?? {};
    const unlocked = Object.entries(locks).filter(([, l]) => l.mode !== 'COMPLIANCE');
    if (unlocked.length > 0)
      throw new AuditExportIntegrityError(
        `not under Object Lock COMPLIANCE retention, so not a published audit export: ${unlocked
          .map(
            ([file, l]) =>
              `${source.describe(file)} (version ${l.versionId ?? '?'}, mode ${l.mode ?? 'none'})`,
          )
          .join('; ')}`,
        { locks },
      );
  }

  const evidenceEntry = manifest.files.find((f) => f.path === EVIDENCE_FILE)!;
  const evidenceBytes = await readSmall(await source.open(EVIDENCE_FILE), source.describe(EVIDENCE_FILE));
  const evidenceProblems = compareWithEntry(evidenceEntry, {
    size: evidenceBytes.length,
    sha256: createHash('sha256').update(evidenceBytes).digest('hex'),
  });
  if (evidenceProblems.length > 0)
    throw new ManifestMismatchError(
      `${source.describe(EVIDENCE_FILE)} does not match ${manifestName} (${evidenceProblems.map((p) => p.problem).join(', ')}): the evidence record was altered`,
      evidenceProblems,
    );
  const evidence = parseEvidence(parseJson(evidenceBytes, EVIDENCE_FILE), source.describe(EVIDENCE_FILE));

  const disagreements: string[] = [];
  if (evidence.runId !== metadata.runId) disagreements.push(`run ${evidence.runId} vs ${metadata.runId}`);
  if (evidence.window.from !== metadata.window.from || evidence.window.to !== metadata.window.to)
    disagreements.push('window');
  const evidenceTables = evidence.tables.map((t) => t.table);
  if (evidenceTables.join() !== metadata.tables.join())
    disagreements.push(`tables ${evidenceTables.join(', ')} vs ${metadata.tables.join(', ')}`);
  for (const t of evidence.tables) {
    const entry = manifest.files.find((f) => f.path === t.file);
    if (t.file !== fileNameFor(t.table) || !entry) disagreements.push(`file of ${t.table}`);
    else if (entry.size !== t.ciphertext.size || entry.sha256 !== t.ciphertext.sha256)
      disagreements.push(`ciphertext of ${t.table}`);
  }
  if (disagreements.length > 0)
    throw new ManifestInvalidError(
      `${manifestName} and its evidence record disagree: ${disagreements.join('; ')}`,
      { source: manifestName },
    );
  return { manifest, metadata, evidence, source, manifestName, ...(location.kind === 's3' ? { locks } : {}) };
}

export interface VerifyExportOptions {
  manifest: ManifestLocation;
  dataKeys: DataKeyProvider;
  /** Decrypt data keys under this KMS key instead of the one the evidence names. */
  kmsKeyId?: string;
  /** Only these tables (default: every table of the export). */
  tables?: AuditTable[];
  /**
   * Where to write the verified CSV: a file when one table is verified, a directory
   * (`<table>.csv` inside) when several are. Without it nothing is written.
   */
  out?: string;
  log?: (message: string) => void;
}

export interface VerifyExportResult {
  runId: string;
  window: { from: string; to: string };
  manifest: string;
  tables: VerifiedTable[];
  /** Verified from S3: each object version read and its (COMPLIANCE) lock. */
  locks?: Record<string, ObjectLockState>;
}

/**
 * The decrypt-and-verify command: checks the manifest, the evidence and every file, and
 * writes each verified CSV under a temporary name that is renamed only once every table
 * has verified. On any failure no output file is left behind.
 */
export async function verifyAuditExport(opts: VerifyExportOptions): Promise<VerifyExportResult> {
  const loaded = await loadExport(opts.manifest);
  const { evidence, manifest, source } = loaded;
  const tables = opts.tables ?? evidence.tables.map((t) => t.table);
  for (const t of tables)
    if (!evidence.tables.some((e) => e.table === t))
      throw new InvalidInputError(
        `table ${t} is not in this export (it has ${evidence.tables.map((e) => e.table).join(', ')})`,
        { field: 'table' },
      );

  const outputs = new Map<AuditTable, string>();
  if (opts.out !== undefined) {
    const out = path.resolve(opts.out);
    const isDir = fs.existsSync(out) && fs.statSync(out).isDirectory();
    if (tables.length === 1 && !isDir) outputs.set(tables[0]!, out);
    else {
      if (fs.existsSync(out) && !fs.statSync(out).isDirectory())
        throw new InvalidInputError(
          `--out ${out} must be a directory when ${tables.length} tables are verified`,
          {
            field: 'out',
          },
        );
      for (const t of tables) outputs.set(t, path.join(out, `${t}.csv`));
    }
    for (const file of outputs.values()) {
      if (fs.existsSync(file))
        throw new InvalidInputError(`${file} already exists; refusing to overwrite it`, { field: 'out' });
      if (!fs.existsSync(path.dirname(file)) && tables.length === 1 && !isDir)
        throw new InvalidInputError(`the directory of ${file} does not exist`, { field: 'out' });
    }
  }

  const window = windowOf(evidence);
  const temps: string[] = [];
  const createdDirs: string[] = [];
  const verified: VerifiedTable[] = [];
  try {
    for (const table of tables) {
      const tableEvidence = evidence.tables.find((t) => t.table === table)!;
      const entry = manifest.files.find((f) => f.path === tableEvidence.file)!;
      const final = outputs.get(table);
      let sink: Writable | undefined;
      let temp: string | undefined;
      if (final) {
        const dir = path.dirname(final);
        const firstCreated = fs.mkdirSync(dir, { recursive: true });
        if (firstCreated) createdDirs.push(firstCreated);
        temp = path.join(dir, `.${path.basename(final)}.partial-${randomBytes(4).toString('hex')}`);
        temps.push(temp);
        sink = fs.createWriteStream(temp, { flags: 'wx', mode: 0o600 });
      }
      opts.log?.(`verifying ${source.describe(tableEvidence.file)}`);
      const result = await verifyTableFile({
        input: await source.open(tableEvidence.file),
        name: source.describe(tableEvidence.file),
        entry,
        evidence: tableEvidence,
        runId: evidence.runId,
        window,
        dataKeys: opts.dataKeys,
        ...(opts.kmsKeyId ? { kmsKeyId: opts.kmsKeyId } : {}),
        ...(sink ? { sink } : {}),
      });
      verified.push({ ...result, ...(final ? { output: final } : {}) });
      opts.log?.(
        `  ✓ ${table}: ${result.rows} rows, ${result.frames} frames, plaintext SHA-256 ${result.plaintext.sha256}`,
      );
    }
    // Everything verified: publish the outputs.
    tables.forEach((table, i) => {
      const final = outputs.get(table);
      if (final) fs.renameSync(temps[i]!, final);
    });
    return {
      runId: evidence.runId,
      window: { from: evidence.window.from, to: evidence.window.to },
      manifest: loaded.manifestName,
      tables: verified,
      ...(loaded.locks ? { locks: loaded.locks } : {}),
    };
  } catch (err) {
    for (const temp of temps) fs.rmSync(temp, { force: true });
    // Directories this call created held nothing but its temporary files.
    for (const dir of createdDirs.reverse()) fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** For callers that have the bytes in hand (tests): a Readable over them. */
export const readableOf = (bytes: Buffer) => Readable.from([bytes]);
