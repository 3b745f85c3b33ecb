import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEvidenceReport } from '../../../report/build-report';
import { canonicalJson, EvidenceReportSchema, reportDigest } from '../../../report/model';
import {
  EvidenceReportConflictError,
  InvalidEvidenceReportError,
  writeEvidenceReport,
} from '../../../report/write-report';
import { sampleInput } from './sample-input';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('writeEvidenceReport', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tp-report-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes report.json, report.html and SHA256SUMS under <run-id>/, with correct SHA-256s', async () => {
    const report = buildEvidenceReport(sampleInput());
    const written = await writeEvidenceReport(report, { reportsDir: root });

    expect(written.dir).toBe(join(root, report.runId));
    expect((await readdir(written.dir)).sort()).toEqual(['SHA256SUMS', 'report.html', 'report.json']);
    const json = await readFile(written.reportJson);
    const html = await readFile(written.reportHtml);
    const sums = await readFile(written.sha256sums, 'utf8');
    expect(sums).toBe(`${sha256(json)}  report.json\n${sha256(html)}  report.html\n`);
    expect(written.sha256).toEqual({ 'report.json': sha256(json), 'report.html': sha256(html) });

    // report.json is the canonical form (sorted keys, 2-space indent) and round-trips to a valid, intact report.
    const text = json.toString('utf8');
    expect(text).toBe(canonicalJson(report, 2) + '\n');
    expect(text.startsWith('{\n  "application": "tradepulse",\n  "decisions": [')).toBe(true);
    const parsed = EvidenceReportSchema.parse(JSON.parse(text));
    expect(reportDigest(parsed)).toBe(report.integrity.sha256);
    expect(html.toString('utf8')).toContain(report.integrity.sha256);

    // Evidence files are read-only, and no staging directory is left behind.
    expect((await stat(written.reportJson)).mode & 0o222).toBe(0);
    expect(await readdir(root)).toEqual([report.runId]);
  });

  it('validates before writing: an invalid report names the field and writes nothing', async () => {
    const report = buildEvidenceReport(sampleInput());
    const { seconds: _dropped, ...rto } = report.rto;
    const attempt = writeEvidenceReport({ ...report, rto }, { reportsDir: root });
    await expect(attempt).rejects.toThrow(InvalidEvidenceReportError);
    await expect(writeEvidenceReport({ ...report, rto }, { reportsDir: root })).rejects.toThrow(
      /rto\.seconds/,
    );
    expect(await readdir(root)).toEqual([]);
  });

  it('refuses a report whose content no longer matches its integrity hash', async () => {
    const report = buildEvidenceReport(sampleInput());
    const tampered = {
      ...report,
      rpo: { ...report.rpo, postgres: { ...report.rpo.postgres, ackedWritesLost: 7 } },
    };
    await expect(writeEvidenceReport(tampered, { reportsDir: root })).rejects.toMatchObject({
      name: 'InvalidEvidenceReportError',
      fields: ['integrity.sha256'],
    });
    expect(await readdir(root)).toEqual([]);
  });

  it('refuses a run id that is not a plain directory name', async () => {
    const input = sampleInput();
    input.run = { ...input.run, runId: '../../etc' };
    await expect(writeEvidenceReport(buildEvidenceReport(input), { reportsDir: root })).rejects.toMatchObject(
      { fields: ['runId'] },
    );
    expect(await readdir(root)).toEqual([]);
  });

  it('never overwrites evidence: the same report again is a no-op, a different one is refused', async () => {
    const report = buildEvidenceReport(sampleInput());
    const first = await writeEvidenceReport(report, { reportsDir: root });
    const again = await writeEvidenceReport(report, { reportsDir: root });
    expect(first.alreadyExisted).toBe(false);
    expect(again).toEqual({ ...first, alreadyExisted: true });

    const different = buildEvidenceReport(sampleInput({ generatedAt: '2026-03-12T15:00:00.000Z' }));
    await expect(writeEvidenceReport(different, { reportsDir: root })).rejects.toThrow(
      EvidenceReportConflictError,
    );
    expect(sha256(await readFile(first.reportJson))).toBe(first.sha256['report.json']);
  });
});
