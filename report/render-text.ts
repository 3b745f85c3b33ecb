/**
 * The few lines a terminal shows at the end of a run: outcome, RTO against the
 * objectives, RPO figures, findings, and where the report files are.
 */
import type { EvidenceReport, ObjectiveResult } from './model';
import { formatSeconds } from './render-html';

export interface TextSummaryOptions {
  /** Where the files were written (from `writeEvidenceReport`). */
  files?: { reportJson: string; reportHtml: string; sha256sums: string };
  /** ANSI colours (a TTY). Default false. */
  color?: boolean;
}

const MODE_LABEL = { failover: 'FAILOVER', drill: 'DRILL', dryRun: 'DRY RUN' } as const;

export function renderReportText(report: EvidenceReport, opts: TextSummaryOptions = {}): string {
  const paint = (code: string, s: string) => (opts.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const good = (s: string) => paint('32', s);
  const bad = (s: string) => paint('31;1', s);
  const warn = (s: string) => paint('33', s);
  const bold = (s: string) => paint('1', s);
  const verdict = (o: ObjectiveResult | undefined) =>
    o === undefined
      ? ''
      : o.result === 'met'
        ? good('met')
        : o.result === 'not-met'
          ? bad('NOT MET')
          : warn('not measured');
  const find = (store: string, kind: string) =>
    report.objectives.find((o) => o.store === store && o.kind === kind);

  const outcomeTone =
    report.outcome === 'resumed' || report.outcome === 'dry-run-complete'
      ? good
      : report.outcome === 'failed' ||
          report.outcome === 'aborted' ||
          report.outcome === 'verification-failed'
        ? bad
        : warn;
  const lines: string[] = [];
  lines.push(
    `${bold(MODE_LABEL[report.mode])}  ${outcomeTone(report.outcome)}  ${report.runId}  ${report.sourceRegion} → ${report.targetRegion}`,
  );
  lines.push(`  ${report.outcomeReason}`);

  const rto = report.rto;
  const rtoRows = report.objectives.filter((o) => o.kind === 'RTO');
  const strictest = rtoRows.reduce<ObjectiveResult | undefined>(
    (m, o) => (m === undefined || o.objectiveSeconds < m.objectiveSeconds ? o : m),
    undefined,
  );
  if (rto.seconds !== null) {
    lines.push(
      `RTO  ${bold(formatSeconds(rto.seconds))} (objective ≤ ${strictest ? `${strictest.objectiveSeconds} s, ${strictest.store}` : 'n/a'}: ${verdict(strictest)})` +
        `; excluding approval ${formatSeconds(rto.excludingApprovalSeconds)}, approval wait ${formatSeconds(rto.approvalWaitSeconds)}`,
    );
  } else {
    lines.push(
      `RTO  trading not resumed; run ended ${formatSeconds(rto.elapsedSeconds)} after the clock started (${verdict(strictest)})`,
    );
  }

  const pg = report.rpo.postgres;
  const k = report.rpo.kafka;
  const rd = report.rpo.redis;
  const n = (v: number | null) => (v === null ? 'n/a' : String(v));
  lines.push(
    `RPO  postgres: ${n(pg.ackedWritesLost)} acknowledged writes lost; lag at declaration ${formatSeconds(pg.lagAtDeclaration.seconds)}` +
      `${pg.lagAtDeclaration.bytes !== null ? ` / ${pg.lagAtDeclaration.bytes} B` : ''} (≤ ${find('postgres', 'RPO')?.objectiveSeconds} s: ${verdict(find('postgres', 'RPO'))})`,
  );
  lines.push(
    `     kafka: ${n(k.skipped)} skipped, ${n(k.duplicates)} duplicates (max ${n(k.maxDuplicatesPerPartition)}/partition, bound ${n(k.offsetLagMax)}); ` +
      `lag ${formatSeconds(k.lagAtDeclarationSeconds)} (≤ ${find('kafka', 'RPO')?.objectiveSeconds} s: ${verdict(find('kafka', 'RPO'))})`,
  );
  lines.push(
    `     redis: ${formatSeconds(rd.measuredSeconds)} (≤ ${find('redis', 'RPO')?.objectiveSeconds} s: ${verdict(find('redis', 'RPO'))})`,
  );

  const met = report.objectives.filter((o) => o.result === 'met').length;
  const notMet = report.objectives.filter((o) => o.result === 'not-met');
  const sev1 = report.verification.sev1Count;
  lines.push(
    `Objectives ${met}/${report.objectives.length} met` +
      (notMet.length > 0
        ? `; ${bad(`not met: ${notMet.map((o) => `${o.store} ${o.kind}`).join(', ')}`)}`
        : '') +
      (sev1 > 0 ? `; ${bad(`${sev1} SEV-1 finding${sev1 === 1 ? '' : 's'}`)}` : '; no SEV-1 finding'),
  );
  if (opts.files) {
    lines.push(`Report ${opts.files.reportHtml}`);
    lines.push(
      `       ${opts.files.reportJson} (sha256 ${report.integrity.sha256.slice(0, 16)}…, ${opts.files.sha256sums})`,
    );
  }
  return lines.join('\n') + '\n';
}
