import { buildEvidenceReport } from '../../../report/build-report';
import { renderReportText } from '../../../report/render-text';
import { at, sampleInput } from './sample-input';

describe('renderReportText', () => {
  it('summarises outcome, RTO against the objective, RPO figures and where the files are', () => {
    const report = buildEvidenceReport(sampleInput());
    const text = renderReportText(report, {
      files: { reportJson: '/r/report.json', reportHtml: '/r/report.html', sha256sums: '/r/SHA256SUMS' },
    });
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('DRILL  resumed  dr-20260312T140212Z-7f3a  us-east-1 → us-west-2');
    expect(text).toContain(
      'RTO  54.6 s (objective ≤ 300 s, redis: met); excluding approval 13.3 s, approval wait 41.3 s',
    );
    expect(text).toContain(
      'RPO  postgres: 0 acknowledged writes lost; lag at declaration 412 ms / 18432 B (≤ 60 s: met)',
    );
    expect(text).toContain(
      'kafka: 0 skipped, 50 duplicates (max 17/partition, bound 100); lag 1.84 s (≤ 30 s: met)',
    );
    expect(text).toContain('Objectives 6/6 met; no SEV-1 finding');
    expect(text).toContain('Report /r/report.html');
    expect(lines.length).toBeLessThanOrEqual(10);
    expect(text).not.toContain('\u001b[');
    expect(renderReportText(report, { color: true })).toContain('\u001b[32mmet\u001b[0m');
  });
});

it('says when trading did not resume and names unmet objectives', () => {
  const report = buildEvidenceReport(
    sampleInput({
      trading: { pausedAt: at(1122), resumedAt: null },
      approval: {
        decision: 'timeout',
        requestedAt: at(12892),
        decidedAt: null,
        decidedBy: null,
        channel: 'task-token',
      },
      execution: {
        status: 'FAILED',
        finishedAt: at(400_000),
        error: { name: 'States.Timeout', state: 'AwaitApproval' },
      },
    }),
  );
  const text = renderReportText(report);
  expect(text.split('\n')[0]).toBe(
    'DRILL  approval-timeout  dr-20260312T140212Z-7f3a  us-east-1 → us-west-2',
  );
  expect(text).toContain('RTO  trading not resumed; run ended 6 min 40 s after the clock started (NOT MET)');
  expect(text).toContain('not met: redis RTO');
  expect(text).toContain('1 SEV-1 finding');
});
