/**
 * The human page of an evidence report: one self-contained HTML file (inline CSS and
 * SVG, no script, no external resource; a Content-Security-Policy forbids both) that a
 * compliance officer can read on screen or print and hand over. Every interpolated string
 * goes through `escapeHtml`.
 */
import {
  canonicalJson,
  RUNBOOK_STEPS,
  STORE_LABELS,
  STORES,
  type EvidenceReport,
  type ObjectiveResult,
  type ReportOutcome,
  type TimelineEntry,
  type TimelineStatus,
} from './model';

/** Makes any string inert in HTML text and in quoted attribute values (also inside inline SVG). */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}
const h = escapeHtml;

// ---------- formatting ----------

/** 0.412 → "412 ms", 4.87 → "4.87 s", 13.332 → "13.3 s", 125 → "2 min 05 s", 5400 → "1 h 30 min". */
export function formatSeconds(s: number | null): string {
  if (s === null) return '—';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    return `${m} min ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
  }
  const hrs = Math.floor(s / 3600);
  return `${hrs} h ${String(Math.round((s - hrs * 3600) / 60)).padStart(2, '0')} min`;
}

/** An objective as the runbook writes it: 60 → "60 s", 600 → "10 min". */
function formatObjective(s: number): string {
  if (s >= 60 && s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

function formatBytes(b: number | null): string {
  if (b === null) return '—';
  if (b < 1024) return `${b} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${(b / 1024 / 1024).toFixed(1)} MiB`;
}

const formatCount = (n: number | null) => (n === null ? 'not measured' : n.toLocaleString('en-US'));
/** "2026-03-12 14:02:12.000 UTC" */
const formatTime = (iso: string | null) =>
  iso === null ? '—' : `${iso.slice(0, 10)} ${iso.slice(11, 23)} UTC`;
/** "14:02:12.000" */
const clock = (iso: string) => iso.slice(11, 23);

const OUTCOME_LABEL: Record<ReportOutcome, string> = {
  resumed: 'Trading resumed',
  rejected: 'Approval rejected — trading frozen',
  'approval-timeout': 'Approval timed out — trading frozen',
  'stopped-rpo-gate': 'Stopped at the RPO gate — trading frozen',
  'verification-failed': 'Verification failed — trading frozen',
  'refused-lock-held': 'Refused: another run holds the lock',
  'invalid-input': 'Rejected: invalid input',
  'dry-run-complete': 'Dry run complete — nothing changed',
  aborted: 'Aborted',
  failed: 'Failed',
};
const OUTCOME_TONE: Record<ReportOutcome, 'good' | 'info' | 'warn' | 'bad'> = {
  resumed: 'good',
  'dry-run-complete': 'info',
  rejected: 'warn',
  'approval-timeout': 'warn',
  'stopped-rpo-gate': 'warn',
  'verification-failed': 'bad',
  'refused-lock-held': 'warn',
  'invalid-input': 'warn',
  aborted: 'bad',
  failed: 'bad',
};

const STATUS_COLOUR: Record<TimelineStatus, string> = {
  succeeded: '#2e7d32',
  retried: '#f2a900',
  caught: '#e65100',
  failed: '#c62828',
  skipped: '#ffffff',
};

const MODE_BANNER: Record<EvidenceReport['mode'], { cls: string; title: string; sub: string }> = {
  drill: {
    cls: 'drill',
    title: 'DRILL',
    sub: 'Exercise — not a real incident. Same steps as a failover; evidence tagged as a drill.',
  },
  dryRun: {
    cls: 'dryrun',
    title: 'DRY RUN',
    sub: 'Nothing was changed: every step observed the current state and reported what it would do.',
  },
  failover: {
    cls: 'failover',
    title: 'FAILOVER',
    sub: 'Unplanned failover of production trading — a real incident.',
  },
};

// ---------- the timeline picture ----------

interface Segment {
  from: number;
  to: number;
  x0: number;
  x1: number;
  compressed: boolean;
}

/**
 * Time → x. Approval waits that would take most of the picture are drawn shortened (with
 * break marks and their real length written on them) so the automated steps stay legible.
 */
function timeScale(t0: number, t1: number, waits: [number, number][], x0: number, x1: number) {
  const span = Math.max(t1 - t0, 1);
  const merged: [number, number][] = [];
  for (const [a, b] of [...waits].sort((p, q) => p[0] - q[0])) {
    const s = Math.max(a, t0);
    const e = Math.min(b, t1);
    if (e <= s) continue;
    const last = merged[merged.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  const waitTotal = merged.reduce((n, [a, b]) => n + (b - a), 0);
  const width = x1 - x0;
  const compress = waitTotal > 0.5 * span && span - waitTotal > 0;
  const compressedWidth = Math.min(110, width * 0.12);
  const pxPerMs = compress ? (width - merged.length * compressedWidth) / (span - waitTotal) : width / span;
  const segments: Segment[] = [];
  let t = t0;
  let x = x0;
  const push = (to: number, compressed: boolean) => {
    if (to <= t) return;
    const w = compressed ? compressedWidth : (to - t) * pxPerMs;
    segments.push({ from: t, to, x0: x, x1: x + w, compressed });
    t = to;
    x += w;
  };
  if (compress) {
    for (const [a, b] of merged) {
      push(a, false);
      push(b, true);
    }
  }
  push(t1, false);
  if (segments.length === 0) segments.push({ from: t0, to: t1, x0, x1, compressed: false });
  const at = (time: number): number => {
    const first = segments[0] as Segment;
    const last = segments[segments.length - 1] as Segment;
    if (time <= first.from) return first.x0;
    if (time >= last.to) return last.x1;
    const seg = segments.find((s) => time >= s.from && time <= s.to) ?? last;
    return seg.x0 + ((time - seg.from) / Math.max(seg.to - seg.from, 1)) * (seg.x1 - seg.x0);
  };
  return { at, segments, uncompressedMs: compress ? span - waitTotal : span, compressed: compress };
}

const TICK_STEPS_MS = [
  100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
  1_800_000, 3_600_000, 7_200_000, 14_400_000,
];

function tickLabel(offsetMs: number, stepMs: number): string {
  const s = offsetMs / 1000;
  if (stepMs < 1000) return `${s.toFixed(1)} s`;
  if (stepMs < 60_000 || s < 60) return `${Math.round(s)} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    const rest = Math.round(s - m * 60);
    return rest === 0 ? `${m} min` : `${m}:${String(rest).padStart(2, '0')}`;
  }
  const hrs = Math.floor(s / 3600);
  const m = Math.round((s - hrs * 3600) / 60);
  return m === 0 ? `${hrs} h` : `${hrs} h ${m} min`;
}

/**
 * Rows in start order, except that the states of one Parallel branch stay together (in
 * start order, placed where the branch started) so a retry sits under its first attempt.
 */
export function displayOrder(entries: readonly TimelineEntry[]): TimelineEntry[] {
  const groupStart = new Map<string, number>();
  for (const e of entries) {
    if (e.branch === null) continue;
    const t = Date.parse(e.start);
    groupStart.set(e.branch, Math.min(groupStart.get(e.branch) ?? Infinity, t));
  }
  const key = (e: TimelineEntry) =>
    e.branch === null ? Date.parse(e.start) : (groupStart.get(e.branch) as number);
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => key(a.e) - key(b.e) || (a.e.branch ?? '').localeCompare(b.e.branch ?? '') || a.i - b.i)
    .map(({ e }) => e);
}

function rowLabel(e: TimelineEntry): string {
  const base = e.state + (e.attempt > 1 ? ` · attempt ${e.attempt}` : '');
  return base.length > 34 ? `${base.slice(0, 33)}…` : base;
}

/** The Gantt picture: one bar per timeline entry on a time axis, approval wait hatched, trading paused/resumed marked. */
export function renderTimelineSvg(report: EvidenceReport): string {
  const W = 1160;
  const labelW = 250;
  const plotX0 = labelW + 10;
  const plotX1 = W - 120;
  const rowH = 22;
  const phaseH = 20;
  const top = 44;
  const entries = displayOrder(report.timeline);
  const startMs = Date.parse(report.rto.startedAt);
  const times = entries.flatMap((e) => [Date.parse(e.start), Date.parse(e.end)]);
  const t0 = Math.min(startMs, ...times);
  const t1 = Math.max(Date.parse(report.finishedAt), ...times, t0 + 1);
  const waits = entries
    .filter((e) => e.kind === 'approval')
    .map((e) => [Date.parse(e.start), Date.parse(e.end)] as [number, number]);
  const scale = timeScale(t0, t1, waits, plotX0, plotX1);

  // Rows, with a header row whenever the runbook step changes.
  const body: string[] = [];
  let y = top;
  let phase: number | null = null;
  const rowYs: number[] = [];
  for (const e of entries) {
    if (e.runbookStep !== null && e.runbookStep !== phase) {
      phase = e.runbookStep;
      body.push(
        `<line x1="0" y1="${y + 0.5}" x2="${W}" y2="${y + 0.5}" class="phase-rule"/>` +
          `<text x="6" y="${y + 14}" class="phase">${h(`${phase} · ${RUNBOOK_STEPS[phase] ?? ''}`)}</text>`,
      );
      y += phaseH;
    }
    rowYs.push(y);
    y += rowH;
  }
  const rowsTop = top;
  const rowsBottom = y;

  // Grid and axis.
  const targetTicks = 9;
  const stepMs =
    TICK_STEPS_MS.find((s) => scale.uncompressedMs / s <= targetTicks) ??
    (TICK_STEPS_MS[TICK_STEPS_MS.length - 1] as number);
  const grid: string[] = [];
  const insideCompressed = (t: number) => scale.segments.some((s) => s.compressed && t > s.from && t < s.to);
  let lastLabelX = -Infinity;
  const firstTick = Math.ceil((t0 - startMs) / stepMs) * stepMs + startMs;
  for (let t = firstTick; t <= t1; t += stepMs) {
    if (insideCompressed(t)) continue;
    const x = scale.at(t);
    grid.push(
      `<line x1="${x.toFixed(1)}" y1="${rowsTop - 4}" x2="${x.toFixed(1)}" y2="${rowsBottom}" class="grid"/>`,
    );
    if (x - lastLabelX >= 44) {
      grid.push(
        `<text x="${x.toFixed(1)}" y="${top - 10}" class="tick" text-anchor="middle">${h(tickLabel(t - startMs, stepMs))}</text>`,
      );
      lastLabelX = x;
    }
  }
  for (const s of scale.segments.filter((seg) => seg.compressed)) {
    const cx = (s.x0 + s.x1) / 2;
    grid.push(
      `<rect x="${s.x0.toFixed(1)}" y="${rowsTop}" width="${(s.x1 - s.x0).toFixed(1)}" height="${rowsBottom - rowsTop}" class="break-band"/>` +
        [s.x0, s.x1]
          .map((bx) => `<path d="M${(bx - 4).toFixed(1)} ${top - 2} l4 -6 l4 6" class="break-mark"/>`)
          .join('') +
        `<text x="${cx.toFixed(1)}" y="${top - 10}" class="tick break-label" text-anchor="middle">${h(`≈ ${formatSeconds((s.to - s.from) / 1000)}`)}</text>`,
    );
  }
  grid.push(`<line x1="${plotX0}" y1="${top - 4}" x2="${plotX1}" y2="${top - 4}" class="axis"/>`);
  // Approval wait: a band across all rows behind the bars.
  const bands = waits
    .map(([a, b]) => {
      const x0 = scale.at(a);
      const x1 = scale.at(b);
      return `<rect x="${x0.toFixed(1)}" y="${rowsTop}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${rowsBottom - rowsTop}" class="approval-band"/>`;
    })
    .join('');

  // Bars.
  const bars: string[] = [];
  entries.forEach((e, i) => {
    const ry = rowYs[i] as number;
    const s = Date.parse(e.start);
    const en = Date.parse(e.end);
    const x0 = scale.at(s);
    const x1 = scale.at(en);
    const w = Math.max(2, x1 - x0);
    const approval = e.kind === 'approval';
    const container = e.kind === 'parallel';
    const barH = container ? 6 : 12;
    const by = ry + (rowH - barH) / 2;
    const fill = approval ? 'url(#tp-hatch)' : STATUS_COLOUR[e.status];
    const stroke = approval ? '#616161' : e.status === 'skipped' ? '#757575' : STATUS_COLOUR[e.status];
    const dash = e.status === 'skipped' ? ' stroke-dasharray="3 2"' : '';
    const opacity = container ? ' fill-opacity="0.45"' : '';
    const duration = formatSeconds(e.durationMs / 1000);
    const extra = [
      approval ? 'awaiting approval' : null,
      e.status !== 'succeeded' ? `${e.status}${e.error ? ` (${e.error.name})` : ''}` : null,
      e.action === 'no-op' ? 'no-op' : e.action === 'dry-run' ? 'dry run' : null,
    ].filter((p): p is string => p !== null);
    const label = [duration, ...extra].join(' · ');
    const tooltip = `${e.state}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''} — ${e.status}${e.error ? `: ${e.error.name}${e.error.cause ? ` — ${e.error.cause}` : ''}` : ''}\n${clock(e.start)} → ${clock(e.end)} UTC (${duration})${e.action ? `\naction: ${e.action}` : ''}${e.branch ? `\nbranch: ${e.branch}` : ''}\nstep: ${e.step}`;
    // The duration label goes after the bar, else inside it, else before it: never over the row label.
    const labelWidth = label.length * 6.2;
    const place =
      x0 + w + 5 + labelWidth <= W - 4
        ? 'after'
        : !container && w >= labelWidth + 10
          ? 'inside'
          : x0 - plotX0 >= labelWidth + 5
            ? 'before'
            : 'after';
    const textX = place === 'after' ? x0 + w + 5 : place === 'inside' ? x0 + w - 5 : x0 - 5;
    const textAnchor = place === 'after' ? 'start' : 'end';
    bars.push(
      `<g class="row">` +
        (i % 2 === 1 ? `<rect x="0" y="${ry}" width="${W}" height="${rowH}" class="zebra"/>` : '') +
        `<text x="${labelW}" y="${ry + 15}" class="label" text-anchor="end">${h(rowLabel(e))}</text>` +
        `<rect class="bar bar-${e.status}${approval ? ' bar-approval' : ''}" data-state="${h(e.state)}" data-status="${e.status}" x="${x0.toFixed(1)}" y="${by}" width="${w.toFixed(1)}" height="${barH}" rx="2" fill="${fill}" stroke="${stroke}"${dash}${opacity}><title>${h(tooltip)}</title></rect>` +
        `<text x="${textX.toFixed(1)}" y="${ry + 15}" class="dur${e.status !== 'succeeded' ? ` dur-${e.status}` : ''}${place === 'inside' ? ' dur-inside' : ''}" text-anchor="${textAnchor}">${h(label)}</text>` +
        `</g>`,
    );
  });

  // Markers: trading paused / resumed, then the RTO bracket.
  const markers: string[] = [];
  let y2 = rowsBottom + 16;
  const marks: { at: string; cls: string; text: string }[] = [];
  if (report.rto.tradingPausedAt)
    marks.push({
      at: report.rto.tradingPausedAt,
      cls: 'paused',
      text: `Trading paused ${clock(report.rto.tradingPausedAt)}`,
    });
  if (report.rto.tradingResumedAt)
    marks.push({
      at: report.rto.tradingResumedAt,
      cls: 'resumed',
      text: `Trading resumed ${clock(report.rto.tradingResumedAt)}`,
    });
  let prevEnd = -Infinity;
  for (const m of marks) {
    const x = scale.at(Date.parse(m.at));
    markers.push(
      `<line x1="${x.toFixed(1)}" y1="${rowsTop - 4}" x2="${x.toFixed(1)}" y2="${rowsBottom + 4}" class="marker marker-${m.cls}"/>`,
    );
    const anchorEnd = x > plotX1 - 160;
    const width = m.text.length * 6.4;
    const left = anchorEnd ? x - 4 - width : x + 4;
    if (left < prevEnd + 8) y2 += 15;
    markers.push(
      `<path d="M${x.toFixed(1)} ${rowsBottom + 4} l-4 7 h8 z" class="marker-head marker-head-${m.cls}"/>` +
        `<text x="${(anchorEnd ? x - 4 : x + 4).toFixed(1)}" y="${y2 + 4}" class="marker-label marker-label-${m.cls}" text-anchor="${anchorEnd ? 'end' : 'start'}">${h(m.text)}</text>`,
    );
    prevEnd = left + width;
  }
  const bracketY = y2 + 26;
  const rto = report.rto;
  const bx0 = scale.at(startMs);
  const bx1 = scale.at(Date.parse(rto.tradingResumedAt ?? report.finishedAt));
  const bracketText =
    rto.seconds !== null
      ? `RTO ${formatSeconds(rto.seconds)}` +
        (rto.approvalWaitSeconds > 0
          ? ` — ${formatSeconds(rto.excludingApprovalSeconds)} excluding ${formatSeconds(rto.approvalWaitSeconds)} approval wait`
          : '')
      : `Run ended after ${formatSeconds(rto.elapsedSeconds)} — trading not resumed`;
  markers.push(
    `<path d="M${bx0.toFixed(1)} ${bracketY - 5} v5 H${bx1.toFixed(1)} v-5" class="bracket${rto.seconds === null ? ' bracket-open' : ''}"/>` +
      `<text x="${((bx0 + bx1) / 2).toFixed(1)}" y="${bracketY + 15}" class="bracket-label" text-anchor="middle">${h(bracketText)}</text>`,
  );

  // Legend.
  const legendY = bracketY + 40;
  const legendItems: [string, string][] = [
    ['succeeded', 'succeeded'],
    ['retried', 'retried (next attempt follows)'],
    ['caught', 'caught → failure path'],
    ['failed', 'failed'],
    ['skipped', 'skipped'],
    ['approval', 'awaiting human approval'],
  ];
  let lx = 10;
  const legend = legendItems
    .map(([key, text]) => {
      const fill = key === 'approval' ? 'url(#tp-hatch)' : STATUS_COLOUR[key as TimelineStatus];
      const stroke =
        key === 'approval' ? '#616161' : key === 'skipped' ? '#757575' : STATUS_COLOUR[key as TimelineStatus];
      const item = `<rect x="${lx}" y="${legendY - 10}" width="18" height="11" rx="2" fill="${fill}" stroke="${stroke}"${key === 'skipped' ? ' stroke-dasharray="3 2"' : ''}/><text x="${lx + 24}" y="${legendY}" class="legend">${h(text)}</text>`;
      lx += 34 + text.length * 6.3;
      return item;
    })
    .join('');
  const axisNote = `Time since ${rto.clockStart === 'trigger' ? 'the trigger' : 'the declaration'} (${formatTime(rto.startedAt)})${scale.compressed ? '; the approval wait is drawn shortened (≈ marks), its real length written on it' : ''}.`;
  const height = legendY + 26;

  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 ${W} ${height}" width="100%" role="img" aria-label="${h(`Timeline of run ${report.runId}: ${entries.length} states`)}">` +
    `<defs><pattern id="tp-hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#eeeeee"/><line x1="0" y1="0" x2="0" y2="6" stroke="#9e9e9e" stroke-width="2.5"/></pattern></defs>` +
    bands +
    grid.join('') +
    body.join('') +
    bars.join('') +
    markers.join('') +
    `<text x="10" y="${legendY + 20}" class="axis-note">${h(axisNote)}</text>` +
    legend +
    `</svg>`
  );
}

// ---------- sections ----------

function resultChip(o: Pick<ObjectiveResult, 'result'>): string {
  const text = o.result === 'met' ? 'Met' : o.result === 'not-met' ? 'Not met' : 'Not measured';
  return `<span class="chip chip-${o.result}">${text}</span>`;
}

function yesNo(v: boolean | null, yes = 'yes', no = 'no'): string {
  if (v === null) return '<span class="muted">not measured</span>';
  return v ? `<span class="ok">${h(yes)}</span>` : `<span class="bad">${h(no)}</span>`;
}

function kv(rows: [string, string][]): string {
  return `<table class="kv">${rows.map(([k, v]) => `<tr><th scope="row">${h(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}

function headerSection(r: EvidenceReport): string {
  const banner = MODE_BANNER[r.mode];
  const t = r.trigger;
  const trigger =
    t.kind === 'alarm'
      ? `CloudWatch alarm <code>${h(t.alarmName ?? 'unknown')}</code>${t.triggeredAt ? ` at ${h(formatTime(t.triggeredAt))}` : ''}`
      : `${t.kind === 'console' ? 'Step Functions console' : 'CLI'}${t.requestedBy ? `, requested by <strong>${h(t.requestedBy)}</strong>` : ''}`;
  const facts: [string, string][] = [
    ['Run id', `<code>${h(r.runId)}</code>`],
    ['Execution', `<code class="wrap">${h(r.executionId)}</code>`],
    ['Application', h(r.application)],
    ['Mode', `<strong>${h(banner.title)}</strong> (<code>${h(r.mode)}</code>)`],
    ['Regions', `<code>${h(r.sourceRegion)}</code> → <code>${h(r.targetRegion)}</code>`],
    ['Trigger', trigger],
    ['Reason', t.reason ? h(t.reason) : '<span class="muted">none given</span>'],
    ['Declared', h(formatTime(r.declaredAt))],
    ['Finished', h(formatTime(r.finishedAt))],
    [
      'Execution status',
      `<code>${h(r.execution.status)}</code>${r.execution.error ? ` — <code>${h(r.execution.error.name)}</code>${r.execution.error.state ? ` in ${h(r.execution.error.state)}` : ''}` : ''}`,
    ],
    [
      'Trading at end',
      h(
        r.tradingAtEnd === 'resumed'
          ? `running in ${r.targetRegion}`
          : r.tradingAtEnd === 'frozen'
            ? 'frozen (order gateway not accepting orders)'
            : 'not paused',
      ),
    ],
  ];
  return (
    `<div class="mode-banner mode-${banner.cls}" role="note"><span class="mode-title">${h(banner.title)}</span><span class="mode-sub">${h(banner.sub)}</span></div>` +
    `<header class="report-header">` +
    `<div class="title-row"><div><p class="eyebrow">TradePulse disaster recovery · evidence report</p>` +
    `<h1>${r.mode === 'drill' ? 'Drill: ' : r.mode === 'dryRun' ? 'Dry run: ' : 'Failover: '}${h(r.sourceRegion)} → ${h(r.targetRegion)}</h1></div>` +
    `<span class="badge tone-${OUTCOME_TONE[r.outcome]}">${h(OUTCOME_LABEL[r.outcome])}</span></div>` +
    `<p class="reason">${h(r.outcomeReason)}</p>` +
    `<dl class="facts">${facts.map(([k, v]) => `<div><dt>${h(k)}</dt><dd>${v}</dd></div>`).join('')}</dl>` +
    `</header>`
  );
}

function keyFigures(r: EvidenceReport): string {
  const rtoRows = r.objectives.filter((o) => o.kind === 'RTO');
  const strictest = rtoRows.reduce<ObjectiveResult | null>(
    (m, o) => (m === null || o.objectiveSeconds < m.objectiveSeconds ? o : m),
    null,
  );
  const rtoAll = rtoRows.every((o) => o.result === 'met')
    ? 'met'
    : rtoRows.some((o) => o.result === 'not-met')
      ? 'not-met'
      : 'not-measured';
  const met = r.objectives.filter((o) => o.result === 'met').length;
  const notMet = r.objectives.filter((o) => o.result === 'not-met').length;
  const approval = r.decisions.find((d) => d.kind === 'approval');
  const card = (label: string, value: string, sub: string, tone = '') =>
    `<div class="card ${tone}"><div class="card-label">${h(label)}</div><div class="card-value">${value}</div><div class="card-sub">${sub}</div></div>`;
  const pg = r.rpo.postgres;
  const k = r.rpo.kafka;
  return (
    `<section class="cards">` +
    card(
      'Recovery time (RTO)',
      h(formatSeconds(r.rto.seconds)),
      `${r.rto.seconds === null ? 'trading not resumed · ' : ''}${strictest ? `strictest objective ≤ ${h(formatObjective(strictest.objectiveSeconds))} (${h(strictest.store)}) ` : ''}${resultChip({ result: rtoAll })}`,
      `tone-card-${rtoAll}`,
    ) +
    card(
      'RTO excluding approval',
      h(formatSeconds(r.rto.excludingApprovalSeconds)),
      'automation alone: the RTO minus the human wait',
    ) +
    card(
      'Approval wait',
      approval || r.rto.approvalWaitSeconds > 0 ? h(formatSeconds(r.rto.approvalWaitSeconds)) : '—',
      approval
        ? h(
            `${approval.decision}${approval.by ? ` by ${approval.by}` : ''}${approval.unattended ? ' (unattended)' : ''}`,
          )
        : 'no approval requested',
    ) +
    card(
      'Acknowledged writes lost',
      h(formatCount(pg.ackedWritesLost)),
      `PostgreSQL · ${h(pg.replication)} replication`,
      pg.ackedWritesLost === 0 ? 'tone-card-met' : pg.ackedWritesLost === null ? '' : 'tone-card-not-met',
    ) +
    card(
      'Kafka skipped / duplicates',
      `${h(formatCount(k.skipped))} / ${h(formatCount(k.duplicates))}`,
      k.maxDuplicatesPerPartition !== null
        ? h(
            `max ${k.maxDuplicatesPerPartition} per partition${k.offsetLagMax !== null ? ` (bound ${k.offsetLagMax})` : ''}`,
          )
        : 'not measured',
      k.skipped === 0 && k.duplicatesWithinBound !== false
        ? 'tone-card-met'
        : k.skipped === null
          ? ''
          : 'tone-card-not-met',
    ) +
    card(
      'Objectives',
      `${met} <span class="of">of ${r.objectives.length}</span>`,
      `met${notMet > 0 ? ` · <span class="bad">${notMet} not met</span>` : ''}`,
      notMet > 0 ? 'tone-card-not-met' : met === r.objectives.length ? 'tone-card-met' : '',
    ) +
    `</section>`
  );
}

function objectivesSection(r: EvidenceReport): string {
  const rows = r.objectives
    .map(
      (o) =>
        `<tr class="obj-${o.result}"><td>${h(STORE_LABELS[o.store])}</td><td><strong>${h(o.kind)}</strong></td>` +
        `<td class="num">≤ ${h(formatObjective(o.objectiveSeconds))}</td>` +
        `<td class="num" title="${h(o.measured === null ? 'not measured' : `${o.measured} s`)}">${h(o.measured === null ? '—' : formatSeconds(o.measured))}</td>` +
        `<td>${resultChip(o)}</td><td class="note">${h(o.note)}</td></tr>`,
    )
    .join('');
  return (
    `<section><h2><span class="num-h">1</span>Recovery objectives</h2>` +
    `<p class="lede">Measured against the runbook's Recovery Objectives table. A figure that could not be measured is shown as <em>not measured</em>, never as met.</p>` +
    `<table class="grid-table"><thead><tr><th>Capability</th><th>Kind</th><th class="num">Objective</th><th class="num">Measured</th><th>Result</th><th>How it was measured</th></tr></thead><tbody>${rows}</tbody></table></section>`
  );
}

function timelineSection(r: EvidenceReport): string {
  const retries = r.timeline.filter((e) => e.status === 'retried').length;
  const failed = r.timeline.filter((e) => e.status === 'failed' || e.status === 'caught').length;
  return (
    `<section class="timeline-section"><h2><span class="num-h">2</span>Timeline</h2>` +
    `<p class="lede">${r.timeline.length} state stays from ${h(formatTime(r.timeline[0]?.start ?? r.declaredAt))} to ${h(formatTime(r.finishedAt))}` +
    `${retries ? `; ${retries} retried attempt${retries === 1 ? '' : 's'}` : ''}${failed ? `; ${failed} failed or caught` : ''}. Hover a bar for its exact times.</p>` +
    `<figure>${renderTimelineSvg(r)}</figure></section>`
  );
}

function rpoSection(r: EvidenceReport): string {
  const pg = r.rpo.postgres;
  const k = r.rpo.kafka;
  const rd = r.rpo.redis;
  const objective = (store: 'postgres' | 'kafka' | 'redis') =>
    r.objectives.find((o) => o.store === store && o.kind === 'RPO');
  const measuredRow = (store: 'postgres' | 'kafka' | 'redis', s: number | null): [string, string] => {
    const o = objective(store);
    return [
      'Measured RPO',
      `<strong>${h(formatSeconds(s))}</strong>${o ? ` vs ≤ ${h(formatObjective(o.objectiveSeconds))} ${resultChip(o)}` : ''}`,
    ];
  };
  const pgTable = kv([
    measuredRow('postgres', pg.measuredSeconds),
    ['Replication', h(pg.replication)],
    [
      'Replay lag at declaration',
      `${h(formatSeconds(pg.lagAtDeclaration.seconds))} · ${h(formatBytes(pg.lagAtDeclaration.bytes))}`,
    ],
    [
      'At risk reported before promotion',
      `${h(formatSeconds(pg.atRiskReported.seconds))} · ${h(formatBytes(pg.atRiskReported.bytes))} · ${h(pg.atRiskReported.writes === null ? '— writes' : `${pg.atRiskReported.writes} writes`)}`,
    ],
    [
      'Acknowledged writes lost',
      `<strong>${h(formatCount(pg.ackedWritesLost))}</strong>${pg.lossWindowSeconds !== null ? ` over ${h(formatSeconds(pg.lossWindowSeconds))}` : ''}`,
    ],
    ['Loss within what was reported at risk', yesNo(pg.lossWithinReportedAtRisk)],
    [
      'Reconciliation',
      pg.reconciliation ? h(pg.reconciliation) : '<span class="muted">not reconciled</span>',
    ],
  ]);
  const topicRows = Object.entries(k.lagAtDeclarationByTopic)
    .map(
      ([topic, l]) =>
        `<tr><td><code>${h(topic)}</code></td><td class="num">${h(formatSeconds(l.lagSeconds))}</td><td class="num">${h(l.messagesBehind.toLocaleString('en-US'))}</td></tr>`,
    )
    .join('');
  const dupRows = Object.entries(k.duplicatesByPartition)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([p, n]) =>
        `<tr><td><code>${h(p)}</code></td><td class="num${k.offsetLagMax !== null && n > k.offsetLagMax ? ' bad' : ''}">${h(n)}</td></tr>`,
    )
    .join('');
  const kafkaTable =
    kv([
      measuredRow('kafka', k.measuredSeconds),
      ['Skipped messages', `<strong>${h(formatCount(k.skipped))}</strong>`],
      [
        'Duplicates',
        `${h(formatCount(k.duplicates))}${k.maxDuplicatesPerPartition !== null ? ` · max ${h(k.maxDuplicatesPerPartition)} per partition` : ''}`,
      ],
      [
        'Within offset.lag.max',
        `${yesNo(k.duplicatesWithinBound)}${k.offsetLagMax !== null ? ` (bound ${h(k.offsetLagMax)})` : ''}`,
      ],
      ['Offsets snapshotted', h(k.offsetsSnapshotted ? 'yes (lag above the limit)' : 'no')],
    ]) +
    (topicRows
      ? `<table class="mini"><thead><tr><th>Topic</th><th class="num">Lag at declaration</th><th class="num">Messages behind</th></tr></thead><tbody>${topicRows}</tbody></table>`
      : '') +
    (dupRows
      ? `<details class="dups"><summary>Duplicates by partition (${Object.keys(k.duplicatesByPartition).length})</summary><table class="mini"><tbody>${dupRows}</tbody></table></details>`
      : '');
  const redisTable = kv([
    measuredRow('redis', rd.measuredSeconds),
    [
      'Replica lag at declaration',
      `${h(formatSeconds(rd.lagAtDeclaration.seconds))} · ${h(formatBytes(rd.lagAtDeclaration.bytes))}`,
    ],
    [
      'Feature snapshot',
      rd.snapshot
        ? `<code class="wrap">${h(rd.snapshot.name)}</code>`
        : '<span class="muted">none replayed</span>',
    ],
    ['Snapshot age', h(formatSeconds(rd.snapshot?.ageSeconds ?? null))],
    ['Hot keys written', h(formatCount(rd.snapshot?.keysWritten ?? null))],
    ['Checksum verified', yesNo(rd.snapshot?.verified ?? null)],
  ]);
  const store = (title: string, table: string, basis: string) =>
    `<div class="store"><h3>${h(title)}</h3>${table}<p class="basis">${h(basis)}</p></div>`;
  return (
    `<section><h2><span class="num-h">3</span>Recovery point: data at risk and data lost</h2>` +
    `<p class="lede">The measured RPO is the worst of the data at risk had the source vanished at declaration, what the workflow reported at risk before promotion, and the span of any write actually lost.</p>` +
    `<div class="stores">${store('PostgreSQL', pgTable, pg.basis)}${store('Kafka', kafkaTable, k.basis)}${store('Redis', redisTable, rd.basis)}</div></section>`
  );
}

function decisionsSection(r: EvidenceReport): string {
  const label = {
    allowDataLoss: 'Allow data loss (RPO override)',
    approval: 'Resume-trading approval',
  } as const;
  const rows = r.decisions
    .map(
      (d) =>
        `<tr><td>${h(label[d.kind])}</td><td><strong class="decision-${h(d.decision)}">${h(d.decision)}</strong>${d.unattended ? ' <span class="chip chip-not-measured">unattended</span>' : ''}</td>` +
        `<td>${d.by ? h(d.by) : '<span class="muted">—</span>'}</td><td>${h(d.requestedAt ? formatTime(d.requestedAt) : '—')}</td><td>${h(formatTime(d.at))}</td><td><code>${h(d.channel)}</code></td>` +
        `<td>${d.reason ? h(d.reason) : '<span class="muted">—</span>'}</td></tr>`,
    )
    .join('');
  return (
    `<section><h2><span class="num-h">4</span>Decisions</h2>` +
    (rows
      ? `<table class="grid-table"><thead><tr><th>Decision</th><th>Outcome</th><th>By</th><th>Requested</th><th>Decided</th><th>Channel</th><th>Reason / comment</th></tr></thead><tbody>${rows}</tbody></table>`
      : '<p class="muted">No decision was required: no approval was requested and no allowDataLoss decision was given.</p>') +
    `</section>`
  );
}

function verificationSection(r: EvidenceReport): string {
  const v = r.verification;
  const checks: [string, typeof v.smoke][] = [
    ['Smoke harness (DR validation dataset)', v.smoke],
    ['Ledger parity', v.ledgerParity],
    ['Consumer lag', v.consumerLag],
    ['SLO check', v.slo],
  ];
  const rows = checks
    .map(
      ([name, c]) =>
        `<tr><td>${h(name)}</td><td>${c === null ? '<span class="chip chip-not-measured">Not run</span>' : c.passed ? '<span class="chip chip-met">Passed</span>' : '<span class="chip chip-not-met">Failed</span>'}</td><td>${c ? h(c.summary) : '<span class="muted">—</span>'}</td></tr>`,
    )
    .join('');
  const order = { 'SEV-1': 0, warning: 1, info: 2 } as const;
  const findings = [...v.findings].sort((a, b) => order[a.severity] - order[b.severity]);
  const list = findings.length
    ? `<ul class="findings">${findings.map((f) => `<li class="finding finding-${h(f.severity.toLowerCase())}"><span class="sev">${h(f.severity)}</span><span>${h(f.message)} <code class="src">${h(f.source)}</code></span></li>`).join('')}</ul>`
    : '<p class="ok">No findings.</p>';
  return (
    `<section><h2><span class="num-h">5</span>Verification</h2>` +
    `<table class="grid-table"><thead><tr><th>Check</th><th>Result</th><th>Summary</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<h3>Findings ${v.sev1Count > 0 ? `<span class="chip chip-not-met">${v.sev1Count} SEV-1</span>` : '<span class="chip chip-met">no SEV-1</span>'}</h3>${list}</section>`
  );
}

function stepsSection(r: EvidenceReport): string {
  const rows = r.steps
    .map((s, i) => {
      const changes = s.changes.length
        ? `<ol class="changes">${s.changes.map((c) => `<li>${h(c)}</li>`).join('')}</ol>`
        : '<p class="muted">No change.</p>';
      return (
        `<tr><td class="num">${i + 1}</td><td><code>${h(s.step)}</code></td><td><span class="action action-${h(s.action)}">${h(s.action)}</span></td>` +
        `<td class="num">${h(clock(s.startedAt))}</td><td class="num">${h(formatSeconds(s.durationMs / 1000))}</td>` +
        `<td><details><summary>${h(`${s.changes.length} change${s.changes.length === 1 ? '' : 's'} · observed state`)}</summary>` +
        `<div class="evidence"><div><h4>Changes</h4>${changes}</div><div><h4>Observed</h4><pre>${h(canonicalJson(s.observed, 2))}</pre></div></div></details></td></tr>`
      );
    })
    .join('');
  return (
    `<section class="steps-section"><h2><span class="num-h">6</span>Step evidence</h2>` +
    `<p class="lede">What every step observed before acting, what it changed (or, in a dry run, would have changed) and how long it took. Times in UTC.</p>` +
    `<table class="grid-table steps"><thead><tr><th class="num">#</th><th>Step</th><th>Action</th><th class="num">Started</th><th class="num">Duration</th><th>Evidence</th></tr></thead><tbody>${rows}</tbody></table></section>`
  );
}

function integritySection(r: EvidenceReport): string {
  const verify = `python3 -c "import json,hashlib; r=json.load(open('report.json')); r.pop('integrity'); print(hashlib.sha256(json.dumps(r,sort_keys=True,separators=(',',':'),ensure_ascii=False).encode()).hexdigest())"`;
  return (
    `<section class="integrity"><h2><span class="num-h">7</span>Integrity</h2>` +
    kv([
      ['SHA-256', `<code class="hash">${h(r.integrity.sha256)}</code>`],
      ['Canonical form', h(r.integrity.canonicalization)],
      [
        'Files',
        'The <code>SHA256SUMS</code> file beside this page lists the SHA-256 of <code>report.json</code> and <code>report.html</code> (check with <code>sha256sum -c SHA256SUMS</code>).',
      ],
      ['Recompute', `<code class="wrap">${h(verify)}</code>`],
    ]) +
    `</section>`
  );
}

const CSS = `
:root{--ink:#1b1f24;--muted:#5f6b76;--rule:#d9dee3;--soft:#f5f7f9;--good:#1b5e20;--good-bg:#e8f5e9;--bad:#b71c1c;--bad-bg:#fdecea;--warn:#8a5300;--warn-bg:#fff4e0;--info:#0d47a1;--info-bg:#e3f0fd}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;background:#eef1f4;color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1200px;margin:0 auto;background:#fff;padding:0 32px 32px;box-shadow:0 0 0 1px var(--rule)}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
code.wrap,code.hash{word-break:break-all}
h1{font-size:26px;margin:2px 0 0;letter-spacing:-.01em}
h2{font-size:18px;margin:34px 0 10px;padding-bottom:6px;border-bottom:2px solid var(--ink);display:flex;align-items:center;gap:10px}
h3{font-size:15px;margin:18px 0 8px}
h4{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:10px 0 4px}
.num-h{display:inline-flex;width:24px;height:24px;border-radius:50%;background:var(--ink);color:#fff;font-size:13px;align-items:center;justify-content:center}
.muted{color:var(--muted)} .ok{color:var(--good);font-weight:600} .bad{color:var(--bad);font-weight:600}
.lede{color:var(--muted);margin:0 0 12px}
.mode-banner{margin:0 -32px;padding:12px 32px;display:flex;align-items:baseline;gap:16px;color:#111;border-bottom:1px solid rgba(0,0,0,.15)}
.mode-title{font-size:22px;font-weight:800;letter-spacing:.18em}
.mode-sub{font-weight:600}
.mode-drill{background:repeating-linear-gradient(-45deg,#ffd54f 0 18px,#ffca28 18px 36px)}
.mode-dryrun{background:repeating-linear-gradient(-45deg,#bbdefb 0 18px,#90caf9 18px 36px)}
.mode-failover{background:#b71c1c;color:#fff}
.report-header{padding-top:18px}
.eyebrow{margin:0;color:var(--muted);text-transform:uppercase;letter-spacing:.08em;font-size:12px;font-weight:600}
.title-row{display:flex;justify-content:space-between;align-items:flex-start;gap:20px}
.badge{display:inline-block;padding:8px 14px;border-radius:6px;font-weight:700;font-size:15px;white-space:nowrap;border:1px solid}
.tone-good{background:var(--good-bg);color:var(--good);border-color:#a5d6a7}
.tone-bad{background:var(--bad-bg);color:var(--bad);border-color:#ef9a9a}
.tone-warn{background:var(--warn-bg);color:var(--warn);border-color:#ffcc80}
.tone-info{background:var(--info-bg);color:var(--info);border-color:#90caf9}
.reason{font-size:15px;margin:10px 0 14px;max-width:900px}
.facts{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:0;margin:0;border:1px solid var(--rule);border-radius:6px;overflow:hidden}
.facts div{padding:7px 12px;border-bottom:1px solid var(--rule);border-right:1px solid var(--rule)}
.facts dt{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);font-weight:600}
.facts dd{margin:1px 0 0}
.cards{display:grid;grid-template-columns:repeat(6,minmax(0,1fr));gap:10px;margin-top:18px}
.card{border:1px solid var(--rule);border-radius:6px;padding:10px 12px;border-top:4px solid #b0bec5}
.card-label{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600}
.card-value{font-size:22px;font-weight:700;margin:2px 0;font-variant-numeric:tabular-nums}
.card-value .of{font-size:14px;color:var(--muted);font-weight:500}
.card-sub{font-size:12px;color:var(--muted)}
.tone-card-met{border-top-color:#2e7d32} .tone-card-not-met{border-top-color:#c62828}
table{border-collapse:collapse;width:100%}
.grid-table th,.grid-table td{border-bottom:1px solid var(--rule);padding:7px 8px;text-align:left;vertical-align:top}
.grid-table thead th{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);border-bottom:2px solid var(--rule);background:var(--soft)}
.num{text-align:right!important;font-variant-numeric:tabular-nums;white-space:nowrap}
.note{color:var(--muted);font-size:12.5px;max-width:460px}
tr.obj-not-met td{background:#fff5f5}
.chip{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:700;white-space:nowrap;border:1px solid}
.chip-met{background:var(--good-bg);color:var(--good);border-color:#a5d6a7}
.chip-not-met{background:var(--bad-bg);color:var(--bad);border-color:#ef9a9a}
.chip-not-measured{background:#eceff1;color:#455a64;border-color:#cfd8dc}
figure{margin:0;border:1px solid var(--rule);border-radius:6px;padding:10px 6px 4px;overflow-x:auto}
svg.timeline{display:block;min-width:900px;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg .label{font-size:12px;fill:#263238}
svg .dur{font-size:11px;fill:#455a64} svg .dur-failed,svg .dur-caught{fill:#b71c1c;font-weight:600} svg .dur-retried{fill:#8a5300;font-weight:600}
svg .dur.dur-inside{fill:#fff;font-weight:600} svg .dur-retried.dur-inside,svg .dur-skipped.dur-inside{fill:#3e2700}
svg .tick{font-size:11px;fill:#607d8b} svg .break-label{fill:#424242;font-weight:600}
svg .phase{font-size:11px;font-weight:700;fill:#37474f;text-transform:uppercase;letter-spacing:.05em}
svg .phase-rule{stroke:#cfd8dc;stroke-width:1}
svg .zebra{fill:#f7f9fa}
svg .grid{stroke:#e3e8ec;stroke-width:1} svg .axis{stroke:#90a4ae;stroke-width:1}
svg .approval-band{fill:#f0f0f0} svg .break-band{fill:#fafafa;stroke:#bdbdbd;stroke-dasharray:2 3}
svg .break-mark{fill:none;stroke:#616161;stroke-width:1.5}
svg .marker{stroke-width:1.6;stroke-dasharray:5 3} svg .marker-paused{stroke:#c62828} svg .marker-resumed{stroke:#1b5e20}
svg .marker-head-paused{fill:#c62828} svg .marker-head-resumed{fill:#1b5e20}
svg .marker-label{font-size:12px;font-weight:700} svg .marker-label-paused{fill:#b71c1c} svg .marker-label-resumed{fill:#1b5e20}
svg .bracket{fill:none;stroke:#263238;stroke-width:1.5} svg .bracket-open{stroke-dasharray:4 3}
svg .bracket-label{font-size:13px;font-weight:700;fill:#263238}
svg .legend{font-size:11.5px;fill:#37474f} svg .axis-note{font-size:11px;fill:#607d8b}
.stores{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:14px}
.store{border:1px solid var(--rule);border-radius:6px;padding:4px 12px 10px}
.store h3{margin:8px 0}
.kv th{font-weight:500;color:var(--muted);text-align:left;padding:4px 10px 4px 0;vertical-align:top;width:46%;font-size:13px}
.kv td{padding:4px 0;vertical-align:top}
.kv tr+tr th,.kv tr+tr td{border-top:1px solid #eef1f3}
.mini{margin-top:10px;font-size:12.5px} .mini th,.mini td{padding:3px 6px;border-bottom:1px solid #eef1f3;text-align:left}
.mini thead th{color:var(--muted);font-weight:600;font-size:11px}
.basis{font-size:12px;color:var(--muted);margin:10px 0 0;border-top:1px dashed var(--rule);padding-top:8px}
details summary{cursor:pointer;color:#0d47a1}
.dups{margin-top:8px}
.findings{list-style:none;padding:0;margin:0}
.finding{display:flex;gap:10px;align-items:baseline;padding:7px 10px;border-left:4px solid;margin-bottom:6px;border-radius:0 4px 4px 0}
.finding .sev{font-weight:800;font-size:12px;min-width:62px}
.finding-sev-1{border-color:#c62828;background:var(--bad-bg)} .finding-warning{border-color:#ef6c00;background:var(--warn-bg)} .finding-info{border-color:#1565c0;background:var(--info-bg)}
.src{color:var(--muted);font-size:11px}
.action{display:inline-block;padding:0 7px;border-radius:3px;font-size:12px;font-weight:600;background:#eceff1;color:#37474f}
.action-changed{background:#e3f2fd;color:#0d47a1} .action-no-op{background:#f3e5f5;color:#6a1b9a} .action-dry-run{background:#fff8e1;color:#8a5300}
.steps td{font-size:13px} .steps td code{white-space:nowrap}
.evidence{padding:4px 0 6px;display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.3fr);gap:14px}
.evidence pre{background:var(--soft);border:1px solid var(--rule);border-radius:4px;padding:8px 10px;margin:0;white-space:pre-wrap;word-break:break-word;max-height:420px;overflow:auto}
.changes{margin:0;padding-left:20px}
.integrity .kv th{width:18%}
footer{margin-top:30px;padding-top:10px;border-top:1px solid var(--rule);color:var(--muted);font-size:12px}
.print-mark{display:none}
@media (max-width:900px){.cards{grid-template-columns:repeat(2,1fr)}.stores,.facts{grid-template-columns:1fr}}
@media print{
  @page{size:A4 landscape;margin:12mm}
  body{background:#fff;font-size:11.5px}
  main{box-shadow:none;padding:0;max-width:none}
  .mode-banner{margin:0}
  figure{overflow:visible;border:none;padding:0}
  svg.timeline{min-width:0}
  h2{break-after:avoid}
  section,.store,.card,tr,.finding{break-inside:avoid}
  .steps-section{break-before:page}
  details summary{color:var(--ink)}
  details::details-content{content-visibility:visible;display:block}
  .evidence pre{max-height:none;overflow:visible}
  .print-mark{display:block;position:fixed;top:0;right:0;font-weight:800;letter-spacing:.15em;font-size:11px;padding:2px 8px;border:1.5px solid #000}
}
`;

/** The whole page: self-contained, script-free, printable. */
export function renderReportHtml(report: EvidenceReport): string {
  const banner = MODE_BANNER[report.mode];
  const title = `${banner.title} · ${OUTCOME_LABEL[report.outcome]} · ${report.runId} · TradePulse DR evidence report`;
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="generator" content="tradepulse-dr report ${h(report.reportVersion)}">` +
    `<title>${h(title)}</title><style>${CSS}</style></head><body><main>` +
    `<div class="print-mark">${h(`${banner.title} · ${report.runId}`)}</div>` +
    headerSection(report) +
    keyFigures(report) +
    objectivesSection(report) +
    timelineSection(report) +
    rpoSection(report) +
    decisionsSection(report) +
    verificationSection(report) +
    stepsSection(report) +
    integritySection(report) +
    `<footer>Generated ${h(formatTime(report.generatedAt))} by tradepulse-dr (report format ${h(report.reportVersion)}) from execution <code class="wrap">${h(report.executionId)}</code>. ` +
    `Objectives: <em>Disaster Recovery &amp; Multi-Region Failover Runbook</em>, Recovery Objectives. ` +
    `${STORES.length} stores assessed; ${report.timeline.length} timeline entries; ${report.steps.length} step evidence records.</footer>` +
    `</main></body></html>\n`
  );
}
