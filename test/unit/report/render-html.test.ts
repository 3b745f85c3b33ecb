import { buildEvidenceReport } from '../../../report/build-report';
import {
  displayOrder,
  escapeHtml,
  formatSeconds,
  renderReportHtml,
  renderTimelineSvg,
} from '../../../report/render-html';
import { at, sampleInput, sampleRun, sampleTimeline } from './sample-input';

const count = (haystack: string, needle: string | RegExp) =>
  (haystack.match(new RegExp(needle, 'g')) ?? []).length;

describe('escapeHtml', () => {
  it('escapes every character that can end a text node or a quoted attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\`</a>`)).toBe(
      '&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#96;&#60;/a&#62;',
    );
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(42)).toBe('42');
  });
});

describe('renderReportHtml', () => {
  it('renders hostile step names, evidence and operator text inert', () => {
    const evil = '<script>alert(1)</script>';
    const attr = '" onmouseover="alert(2)';
    const input = sampleInput({
      run: sampleRun({ trigger: { kind: 'cli', requestedBy: `${evil}`, reason: attr } }),
      approval: {
        decision: 'approved',
        requestedAt: at(12892),
        decidedAt: at(54210),
        decidedBy: '<img src=x onerror=alert(3)>',
        comment: evil,
        channel: 'terminal',
      },
    });
    input.timeline.push({
      state: evil,
      step: evil,
      enteredAt: at(100),
      exitedAt: at(200),
      status: 'failed',
      error: { name: attr, cause: evil },
    });
    input.evidence.push({
      step: evil,
      action: 'changed',
      observed: { [evil]: attr },
      changes: [evil],
      startedAt: at(101),
      finishedAt: at(199),
      durationMs: 98,
    });
    const html = renderReportHtml(buildEvidenceReport(input));

    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain('" onmouseover="');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('&#34; onmouseover=&#34;alert(2)');
    // Defence in depth: the page forbids scripts outright.
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    );
  });

  it('is self-contained: no script, no external resource', () => {
    const html = renderReportHtml(buildEvidenceReport(sampleInput()));
    expect(html).not.toMatch(/<script|<link|<iframe|src="http|url\(http|@import/i);
    expect(html.startsWith('<!doctype html>')).toBe(true);
  });

  it('labels a drill unmistakably, in the banner, the title and the heading', () => {
    const html = renderReportHtml(buildEvidenceReport(sampleInput()));
    expect(html).toContain(
      '<div class="mode-banner mode-drill" role="note"><span class="mode-title">DRILL</span>',
    );
    expect(html).toMatch(/<title>DRILL · Trading resumed · dr-20260312T140212Z-7f3a/);
    expect(html).toContain('<h1>Drill: us-east-1 → us-west-2</h1>');
    const failover = renderReportHtml(
      buildEvidenceReport(sampleInput({ run: sampleRun({ mode: 'failover' }) })),
    );
    expect(failover).not.toContain('DRILL');
    expect(failover).toContain('<span class="mode-title">FAILOVER</span>');
  });

  it('shows the objectives table with measured vs objective and a verdict per row', () => {
    const html = renderReportHtml(buildEvidenceReport(sampleInput()));
    expect(count(html, '<tr class="obj-met">')).toBe(6);
    expect(html).toContain('<td class="num">≤ 10 min</td><td class="num" title="54.65 s">54.6 s</td>');
  });

  it('puts the integrity hash on the page', () => {
    const report = buildEvidenceReport(sampleInput());
    expect(renderReportHtml(report)).toContain(`<code class="hash">${report.integrity.sha256}</code>`);
  });
});

describe('renderTimelineSvg', () => {
  it('draws exactly one bar per timeline entry, coloured by status, the approval hatched', () => {
    const report = buildEvidenceReport(sampleInput());
    const svg = renderTimelineSvg(report);
    expect(count(svg, '<rect class="bar ')).toBe(report.timeline.length);
    expect(count(svg, 'class="bar bar-retried"')).toBe(1);
    expect(count(svg, 'class="bar bar-succeeded bar-approval"[^>]*fill="url\\(#tp-hatch\\)"')).toBe(1);
    expect(svg).toContain('<pattern id="tp-hatch"');
  });

  it('marks trading paused and resumed, and brackets the RTO', () => {
    const svg = renderTimelineSvg(buildEvidenceReport(sampleInput()));
    expect(count(svg, 'class="marker marker-paused"')).toBe(1);
    expect(count(svg, 'class="marker marker-resumed"')).toBe(1);
    expect(svg).toContain('Trading paused 14:02:13.122');
    expect(svg).toContain('Trading resumed 14:03:06.650');
    expect(svg).toContain('RTO 54.6 s — 13.3 s excluding 41.3 s approval wait');
  });

  it('has tick labels on a time axis and, when the approval wait dominates, draws it shortened with its real length', () => {
    const svg = renderTimelineSvg(buildEvidenceReport(sampleInput()));
    for (const label of ['0 s', '2 s', '4 s', '12 s'])
      expect(svg).toContain(`class="tick" text-anchor="middle">${label}</text>`);
    expect(svg).toContain('≈ 41.3 s');
    const noApproval = sampleInput();
    noApproval.timeline = noApproval.timeline.filter((t) => t.kind !== 'approval');
    noApproval.approval = null;
    expect(renderTimelineSvg(buildEvidenceReport(noApproval))).not.toContain('≈');
  });

  it('keeps a Parallel branch’s states together so a retry sits under its first attempt', () => {
    const order = displayOrder(buildEvidenceReport(sampleInput()).timeline).map(
      (t) => `${t.state}${t.attempt > 1 ? `#${t.attempt}` : ''}`,
    );
    const from = order.indexOf('PromoteStores');
    expect(order.slice(from, from + 7)).toEqual([
      'PromoteStores',
      'TranslateKafkaOffsets',
      'CheckKafkaIsr',
      'PromotePostgres',
      'PromotePostgres#2',
      'PromoteRedis',
      'HydrateRedis',
    ]);
    expect(order).toHaveLength(sampleTimeline().timeline.length);
  });
});

describe('formatSeconds', () => {
  it.each([
    [0.412, '412 ms'],
    [4.87, '4.87 s'],
    [13.332, '13.3 s'],
    [125, '2 min 05 s'],
    [5400, '1 h 30 min'],
  ])('%d → %s', (s, text) => expect(formatSeconds(s)).toBe(text));
});
