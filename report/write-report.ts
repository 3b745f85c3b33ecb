/**
 * Writes a run's evidence to `reports/disaster-recovery/<run-id>/`: `report.json`
 * (canonical: keys sorted, 2-space indent), `report.html` and `SHA256SUMS` (the format
 * `sha256sum -c` reads). The report is validated first; an invalid one writes nothing.
 * Evidence is immutable: the files are written read-only into a temporary directory that
 * is renamed into place, and a run directory that already holds different evidence is
 * never overwritten.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { formatIssues } from '../lambdas/shared/topology';
import { canonicalJson, EvidenceReportSchema, reportDigest, type EvidenceReport } from './model';
import { renderReportHtml } from './render-html';

export const DEFAULT_REPORTS_DIR = 'reports/disaster-recovery';
export const REPORT_FILES = { json: 'report.json', html: 'report.html', sums: 'SHA256SUMS' } as const;

/** The report is not a valid `EvidenceReport`; the message names each offending field. */
export class InvalidEvidenceReportError extends Error {
  override name = 'InvalidEvidenceReportError';
  readonly fields: string[];
  constructor(message: string, fields: string[]) {
    super(message);
    this.fields = fields;
  }
}

/** The run's directory already holds different evidence; it is not overwritten. */
export class EvidenceReportConflictError extends Error {
  override name = 'EvidenceReportConflictError';
}

export interface WrittenEvidenceReport {
  dir: string;
  reportJson: string;
  reportHtml: string;
  sha256sums: string;
  /** SHA-256 of each file's bytes, as listed in SHA256SUMS. */
  sha256: { 'report.json': string; 'report.html': string };
  /** True when identical evidence was already in place (a re-driven run writing its report again). */
  alreadyExisted: boolean;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const SAFE_RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Validates the report (schema, integrity hash, a run id usable as a directory name) and returns it typed. */
export function validateEvidenceReport(report: unknown): EvidenceReport {
  const parsed = EvidenceReportSchema.safeParse(report);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.map(String).join('.') || '(root)');
    throw new InvalidEvidenceReportError(
      `Invalid evidence report:\n${formatIssues(parsed.error.issues)}`,
      fields,
    );
  }
  const r = parsed.data;
  if (!SAFE_RUN_ID.test(r.runId)) {
    throw new InvalidEvidenceReportError(
      `Invalid evidence report:\n  - runId: "${r.runId}" is not usable as a directory name (letters, digits, . _ -)`,
      ['runId'],
    );
  }
  const digest = reportDigest(r);
  if (digest !== r.integrity.sha256) {
    throw new InvalidEvidenceReportError(
      `Invalid evidence report:\n  - integrity.sha256: ${r.integrity.sha256} does not match the report's content (${digest})`,
      ['integrity.sha256'],
    );
  }
  return r;
}

/** The three files' contents, byte for byte what `writeEvidenceReport` writes (also what an archive upload should store). */
export function evidenceReportFiles(
  report: unknown,
): Record<'report.json' | 'report.html' | 'SHA256SUMS', string> {
  const r = validateEvidenceReport(report);
  const json = canonicalJson(r, 2) + '\n';
  const html = renderReportHtml(r);
  const sums = `${sha256(json)}  ${REPORT_FILES.json}\n${sha256(html)}  ${REPORT_FILES.html}\n`;
  return { 'report.json': json, 'report.html': html, SHA256SUMS: sums };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function sameEvidence(dir: string, files: Record<string, string>): Promise<boolean> {
  for (const [name, content] of Object.entries(files)) {
    const current = await readFile(join(dir, name), 'utf8').catch(() => null);
    if (current !== content) return false;
  }
  return true;
}

/**
 * Writes the report's files under `<reportsDir>/<runId>/` (default `reports/disaster-recovery`,
 * relative to the working directory) and returns their paths.
 */
export async function writeEvidenceReport(
  report: unknown,
  opts: { reportsDir?: string } = {},
): Promise<WrittenEvidenceReport> {
  const r = validateEvidenceReport(report); // before touching the file system
  const files = evidenceReportFiles(r);
  const root = resolve(opts.reportsDir ?? DEFAULT_REPORTS_DIR);
  const dir = join(root, r.runId);
  const result = (alreadyExisted: boolean): WrittenEvidenceReport => ({
    dir,
    reportJson: join(dir, REPORT_FILES.json),
    reportHtml: join(dir, REPORT_FILES.html),
    sha256sums: join(dir, REPORT_FILES.sums),
    sha256: { 'report.json': sha256(files['report.json']), 'report.html': sha256(files['report.html']) },
    alreadyExisted,
  });
  const settleExisting = async (): Promise<WrittenEvidenceReport> => {
    if (await sameEvidence(dir, files)) return result(true);
    throw new EvidenceReportConflictError(
      `${dir} already holds different evidence for run ${r.runId}; evidence is never overwritten`,
    );
  };

  await mkdir(root, { recursive: true });
  if ((await exists(dir)) && !(await exists(join(dir, REPORT_FILES.json)))) {
    // The run's own directory already holds its raw evidence (e.g. the load generator's
    // journal): add the report files beside it, each created exclusively.
    for (const [name, content] of Object.entries(files)) {
      try {
        await writeFile(join(dir, name), content, { mode: 0o444, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return settleExisting();
        throw err;
      }
    }
    return result(false);
  }
  if (await exists(dir)) return settleExisting();
  const staging = await mkdtemp(join(root, `.${r.runId}.partial-`));
  try {
    for (const [name, content] of Object.entries(files))
      await writeFile(join(staging, name), content, { mode: 0o444 });
    try {
      await rename(staging, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return await settleExisting(); // another writer won the race
      throw err;
    }
    return result(false);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
