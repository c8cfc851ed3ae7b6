import { readFileSync } from 'node:fs';
import type { HtmlReportData } from './data';

/**
 * The report as one self-contained HTML page: Apache ECharts (inlined, SVG renderer so every mark
 * is a DOM element a test can count), the report data as JSON, and a small script that draws one
 * chart per question. No request leaves the page.
 */

let echartsSource: string | undefined;
function echarts(): string {
  // Read once per process; ~1.1 MB, the minified build the package ships.
  echartsSource ??= readFileSync(require.resolve('echarts/dist/echarts.min.js'), 'utf8');
  return echartsSource;
}

/** JSON safe inside a <script> element: no "</script>", no HTML comment openers. */
export const scriptJson = (value: unknown): string =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The charts the page draws, in order: the test checks each drew data. */
export const chartIds = ['uplift', 'clv-predicted', 'clv-palive', 'decisions-by-action', 'decisions-by-reason', 'csat-by-arm', 'nps-by-arm', 'ope'] as const;

const chartTitles: Record<(typeof chartIds)[number], string> = {
  uplift: 'Uplift of TREATMENT over CONTROL per action and stage (95% CI)',
  'clv-predicted': 'Predicted CLV per customer (365 d horizon)',
  'clv-palive': 'P(alive) per customer',
  'decisions-by-action': 'Decisions by action over time',
  'decisions-by-reason': 'Why actions were held back, over time (reason codes)',
  'csat-by-arm': 'CSAT mean by arm (the decision before the survey)',
  'nps-by-arm': 'NPS by arm',
  ope: 'Off-policy evaluation: candidate policy value (95% CI)',
};

// Runs in the browser. Plain ES2017, no imports: `echarts` and `REPORT` are globals of the page.
const drawScript = String.raw`
(function () {
  var R = REPORT;
  var pct = function (v) { return v === null || v === undefined ? '-' : (v * 100).toFixed(1) + '%'; };
  var money = function (m) { return (m / 100).toFixed(0); };
  var pending = 0, drawn = {};
  function chart(id, option, emptyReason, rows) {
    var el = document.querySelector('[data-chart="' + id + '"] .plot');
    // Category charts grow with their rows so labels never overlap.
    if (rows) el.style.height = Math.max(320, 24 * rows + 90) + 'px';
    if (!option) {
      el.textContent = 'no data: ' + (emptyReason || 'nothing to draw yet');
      el.className = 'plot empty';
      drawn[id] = 0;
      return;
    }
    pending++;
    var c = echarts.init(el, null, { renderer: 'svg' });
    option.animation = false;
    c.on('finished', function once() {
      c.off('finished', once);
      drawn[id] = el.querySelectorAll('svg path, svg rect, svg circle, svg polyline, svg line').length;
      el.parentNode.setAttribute('data-drawn', String(drawn[id]));
      if (--pending === 0) document.body.setAttribute('data-charts-ready', 'true');
    });
    c.setOption(option);
  }
  // Error bars as a custom series: value(0) category, value(1) low, value(2) high.
  function errorBars(horizontal) {
    return function (params, api) {
      var cat = api.value(0), lo = api.value(1), hi = api.value(2), h = 5;
      var a = horizontal ? api.coord([lo, cat]) : api.coord([cat, lo]);
      var b = horizontal ? api.coord([hi, cat]) : api.coord([cat, hi]);
      var style = { stroke: '#333', lineWidth: 1.5, fill: null };
      var cap = function (p) { return horizontal ? { x1: p[0], y1: p[1] - h, x2: p[0], y2: p[1] + h } : { x1: p[0] - h, y1: p[1], x2: p[0] + h, y2: p[1] }; };
      return { type: 'group', children: [
        { type: 'line', shape: { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, style: style },
        { type: 'line', shape: cap(a), style: style },
        { type: 'line', shape: cap(b), style: style } ] };
    };
  }
  var grid = { left: 170, right: 30, top: 30, bottom: 40 };

  // 1. Uplift with intervals.
  var u = R.attribution.uplift;
  chart('uplift', u.length ? {
    grid: grid, tooltip: {},
    yAxis: { type: 'category', data: u.map(function (r) { return r.journeyStage + ' · ' + r.actionId; }) },
    xAxis: { type: 'value', name: 'uplift (pp)', axisLabel: { formatter: function (v) { return (v * 100).toFixed(0); } } },
    series: [
      { type: 'custom', renderItem: errorBars(true), encode: { y: 0, x: [1, 2] },
        data: u.map(function (r, i) { return [i, r.ci95.low, r.ci95.high]; }) },
      { type: 'scatter', symbolSize: 10, data: u.map(function (r, i) {
          return { value: [r.uplift, i], itemStyle: { color: r.significant ? '#2e7d32' : r.enough ? '#9e9e9e' : '#ef6c00' } }; }),
        tooltip: { formatter: function (p) { var r = u[p.dataIndex]; return r.actionId + ': ' + pct(r.uplift) + ' [' + pct(r.ci95.low) + ', ' + pct(r.ci95.high) + '], n ' + r.treatmentN + '/' + r.controlN; } } }
    ]
  } : null, R.attribution.upliftEmpty, u.length);

  // 2-3. CLV and P(alive) distributions.
  var pv = R.clv.predicted;
  chart('clv-predicted', pv.length ? {
    grid: grid, tooltip: {},
    xAxis: { type: 'category', name: 'predicted CLV', data: pv.map(function (b) { return b.toMinor === null ? '≥ ' + money(b.fromMinor) : money(b.fromMinor) + '–' + money(b.toMinor); }) },
    yAxis: { type: 'value', name: 'customers' },
    series: [{ type: 'bar', data: pv.map(function (b) { return b.customers; }), itemStyle: { color: '#1565c0' } }]
  } : null, 'no customer with orders yet');
  var pa = R.clv.pAlive;
  chart('clv-palive', pa.length ? {
    grid: grid, tooltip: {},
    xAxis: { type: 'category', name: 'P(alive)', data: pa.map(function (b) { return b.from.toFixed(1) + '–' + b.to.toFixed(1); }) },
    yAxis: { type: 'value', name: 'customers' },
    series: [{ type: 'bar', data: pa.map(function (b) { return b.customers; }), itemStyle: { color: '#6a1b9a' } }]
  } : null, 'no customer with orders yet');

  // 4-5. Decisions over time, stacked by action and by reason.
  function stacked(rows, key) {
    var buckets = [], names = [], cell = {};
    rows.forEach(function (r) {
      if (buckets.indexOf(r.bucket) < 0) buckets.push(r.bucket);
      if (names.indexOf(r[key]) < 0) names.push(r[key]);
      cell[r.bucket + '\u0000' + r[key]] = r.decisions;
    });
    if (!rows.length) return null;
    return {
      grid: { left: 60, right: 30, top: 60, bottom: 40 }, tooltip: { trigger: 'axis' }, legend: { type: 'scroll', top: 0 },
      xAxis: { type: 'category', data: buckets }, yAxis: { type: 'value', name: 'decisions' },
      series: names.map(function (n) { return { name: n, type: 'bar', stack: 'all', data: buckets.map(function (b) { return cell[b + '\u0000' + n] || 0; }) }; })
    };
  }
  chart('decisions-by-action', stacked(R.decisionsOverTime, 'actionId'), 'no decisions yet');
  chart('decisions-by-reason', stacked(R.reasonsOverTime, 'reason'), 'no gate or deferral held anything back yet');

  // 6-7. CSAT and NPS by arm, per stage and action.
  function byArm(field) {
    var rows = R.satisfaction.segments.filter(function (s) { return s[field] !== null; });
    if (!rows.length) return null;
    var cats = [], arms = [], cell = {};
    rows.forEach(function (s) {
      var c = s.journeyStage + ' · ' + s.actionId;
      if (cats.indexOf(c) < 0) cats.push(c);
      if (arms.indexOf(s.experimentArm) < 0) arms.push(s.experimentArm);
      cell[c + '\u0000' + s.experimentArm] = s[field];
    });
    var colors = { TREATMENT: '#2e7d32', CONTROL: '#ef6c00', NONE: '#90a4ae' };
    return {
      grid: grid, tooltip: { trigger: 'axis' }, legend: { top: 0 },
      yAxis: { type: 'category', data: cats }, xAxis: { type: 'value', name: field === 'csatMean' ? 'CSAT (1-5)' : 'NPS (-100..100)' },
      series: arms.map(function (a) { return { name: a, type: 'bar', itemStyle: { color: colors[a] }, data: cats.map(function (c) { var v = cell[c + '\u0000' + a]; return v === undefined ? null : v; }) }; })
    };
  }
  function armRows(field) {
    var seen = {};
    R.satisfaction.segments.forEach(function (s) { if (s[field] !== null) seen[s.journeyStage + ' · ' + s.actionId] = 1; });
    return 2 * Object.keys(seen).length;
  }
  chart('csat-by-arm', byArm('csatMean'), 'no CSAT answers yet', armRows('csatMean'));
  chart('nps-by-arm', byArm('nps'), 'no NPS answers yet', armRows('nps'));

  // 8. OPE: observed logging value, IPS and SNIPS with intervals.
  var e = R.ope.candidate.estimate;
  chart('ope', e ? {
    grid: grid, tooltip: {},
    yAxis: { type: 'category', data: ['logging (observed)', 'IPS', 'SNIPS'] },
    xAxis: { type: 'value', name: 'conversion rate', axisLabel: { formatter: function (v) { return (v * 100).toFixed(0) + '%'; } } },
    series: [
      { type: 'bar', data: [e.loggingValue, e.ips, e.snips], itemStyle: { color: e.reliable ? '#1565c0' : '#bdbdbd' } },
      { type: 'custom', renderItem: errorBars(true), encode: { y: 0, x: [1, 2] },
        data: [[1, e.ipsCi95.low, e.ipsCi95.high]].concat(e.snipsCi95 ? [[2, e.snipsCi95.low, e.snipsCi95.high]] : []) }
    ]
  } : null, 'no executed decisions in the evaluated stages yet');
  if (pending === 0) document.body.setAttribute('data-charts-ready', 'true');
  window.NEXTACT_DRAWN = drawn;
})();
`;

export function renderHtmlReport(data: HtmlReportData): string {
  const a = data.attribution;
  const c = a.coverage;
  const e = data.ope.candidate.estimate;
  const notes = [
    c.events
      ? `Events from ${c.firstEventTime} to ${c.lastEventTime} (${c.spanHours.toFixed(0)} h of event time, ${c.events} events).`
      : 'No events stored yet.',
    `Significance needs ≥ ${a.minPerArm} customers per arm and an interval excluding 0 (Wilson/Newcombe for rates, Welch t for means); orange points have too few customers to call.`,
    a.upliftComparisons.note,
    data.satisfaction.comparisons.note,
    data.ope.explanation,
    e && !e.reliable ? `OPE estimate UNRELIABLE (poor support): ${e.supportWarnings.join('; ')}.` : null,
  ].filter((n): n is string => Boolean(n));
  const charts = chartIds
    .map((id) => `<section class="chart" data-chart="${id}"><h2>${escapeHtml(chartTitles[id])}</h2><div class="plot"></div></section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NextAct report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #212121; max-width: 1280px; }
h1 { font-size: 22px; margin: 0 0 8px; } h2 { font-size: 15px; margin: 0 0 6px; }
ul.notes { color: #424242; padding-left: 18px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(600px, 1fr)); gap: 18px; }
.chart { border: 1px solid #e0e0e0; border-radius: 6px; padding: 10px; }
.plot { width: 100%; height: 320px; } .plot.empty { height: auto; color: #757575; font-style: italic; }
</style></head>
<body>
<h1>NextAct report</h1>
<div>generated ${escapeHtml(data.generatedAt)}; conversion window ${a.windowHours} h; survey window ${data.satisfaction.windowDays} d</div>
<ul class="notes">${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
<div class="grid">
${charts}
</div>
<script>${echarts()}</script>
<script>var REPORT = ${scriptJson(data)};</script>
<script>${drawScript}</script>
</body></html>
`;
}
