import type { AttributionReport, ClvReport, OpeReport, SatisfactionReport } from './attribution';
import { renderClv } from './clv/report';
import { renderSegments, type SegmentsReport } from './clv/segments';
import { money, pct, table } from './format';
import type { ReportName } from './routes';

const ci = (i: { low: number; high: number } | null, f: (v: number) => string): string => (i ? `[${f(i.low)}, ${f(i.high)}]` : '-');
const pp = (v: number) => `${(v * 100).toFixed(1)}pp`;

/** The verdict beside its rule: a result is called only with enough customers in each arm. */
const verdict = (r: { significant: boolean; enough: boolean; minPerArm: number }): string => (r.enough ? (r.significant ? 'yes' : 'no') : `n<${r.minPerArm}`);
const note = (text: string | null | undefined): string => (text ? `  note: ${text}\n` : '');

export function renderAttribution(r: AttributionReport): string {
  return [
    table(
      `Attribution (conversion = purchase or CONVERTED within ${r.windowHours} h of the decision)`,
      ['stage', 'action', 'channel', 'arm', 'decisions', 'delivered', 'conversions', 'conv rate', 'revenue'],
      r.segments.map((s) => [
        s.journeyStage,
        s.actionId,
        s.channel,
        s.experimentArm,
        s.decisions,
        s.deliveries,
        s.conversions,
        pct(s.conversionRate),
        money(s.revenueMinor),
      ]),
    ),
    table(
      `Uplift of TREATMENT over CONTROL (customers at first exposure, ${r.windowHours} h window closed; rates with Wilson 95% CI, difference with Newcombe's 95% CI)`,
      ['stage', 'action', 'n treat', 'treat rate', 'n ctrl', 'ctrl rate', 'uplift', '95% CI', 'rel. lift', `significant (n≥${r.minPerArm}/arm)`],
      r.uplift.map((u) => [
        u.journeyStage,
        u.actionId,
        u.treatmentN,
        `${pct(u.treatmentRate)} ${ci(u.treatmentCi95, pct)}`,
        u.controlN,
        `${pct(u.controlRate)} ${ci(u.controlCi95, pct)}`,
        pp(u.uplift),
        ci(u.ci95, pp),
        u.relativeLift === null ? '-' : pct(u.relativeLift),
        verdict(u),
      ]),
      r.upliftEmpty,
    ),
    note(r.upliftComparisons?.note),
  ].join('\n');
}

export function renderSatisfaction(r: SatisfactionReport): string {
  return [
    table(
      `NPS and CSAT by the decision before the survey (survey decisionId, else latest decision within ${r.windowDays} d)`,
      ['stage', 'action', 'arm', 'responses', 'NPS', 'promoters', 'detractors', 'CSAT mean', 'CSAT 4-5'],
      r.segments.map((s) => [s.journeyStage, s.actionId, s.experimentArm, s.responses, s.nps, s.promoters, s.detractors, s.csatMean, pct(s.csatTop2Share)]),
    ),
    `  surveys joined by: ${
      Object.entries(r.joinedBy)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '-'
    }\n`,
    table(
      'CSAT of TREATMENT minus CONTROL (difference of means, Welch t 95% CI)',
      ['stage', 'action', 'n treat', 'mean treat', 'n ctrl', 'mean ctrl', 'difference', '95% CI', `significant (n≥${r.minPerArm}/arm)`],
      r.csatByArm.map((a) => [
        a.journeyStage,
        a.actionId,
        a.treatmentN,
        a.treatmentMean,
        a.controlN,
        a.controlMean,
        a.difference,
        ci(a.ci95, (v) => v.toFixed(2)),
        verdict(a),
      ]),
    ),
    ...renderSurveyExperiments(r),
    note(r.comparisons?.note),
  ].join('\n');
}

/** Timing experiments: arm by arm with response and attrition, then the differences of the answers. */
function renderSurveyExperiments(r: SatisfactionReport): string[] {
  const rows = r.surveyExperiments ?? [];
  const arms = rows.flatMap((e) =>
    (['TREATMENT', 'CONTROL'] as const).map((arm) => {
      const a = arm === 'TREATMENT' ? e.treatment : e.control;
      return [e.experimentId, e.actionId, arm, a.delivered, a.answered, pct(a.responseRate), a.deferred, a.followUpsBlocked, a.csatMean, a.npsMean, a.nps];
    }),
  );
  const differences = rows.flatMap((e) =>
    (['csat', 'nps'] as const).flatMap((score) => {
      const d = e[score];
      return d
        ? [
            [
              e.experimentId,
              e.actionId,
              score === 'csat' ? 'CSAT' : 'NPS answer',
              d.treatmentN,
              d.treatmentMean,
              d.controlN,
              d.controlMean,
              d.difference,
              ci(d.ci95, (v) => v.toFixed(2)),
              verdict(d),
            ],
          ]
        : [];
    }),
  );
  return [
    table(
      `Survey timing experiments (both arms surveyed; first answer naming the delivered decision within ${r.windowDays} d)`,
      ['experiment', 'action', 'arm', 'delivered', 'answered', 'response', 'deferred', 'blocked', 'CSAT mean', 'NPS mean', 'NPS'],
      arms,
      r.surveyExperimentsEmpty,
    ),
    table(
      'Answers of TREATMENT minus CONTROL (difference of means, Welch t 95% CI; compare response rates above: non-response can bias it)',
      ['experiment', 'action', 'score', 'n treat', 'mean treat', 'n ctrl', 'mean ctrl', 'difference', '95% CI', `significant (n≥${r.minPerArm}/arm)`],
      differences,
      rows.length > 0 ? 'fewer than two answers per arm so far' : r.surveyExperimentsEmpty,
    ),
  ];
}

export function renderOpe(r: OpeReport): string {
  const e = r.candidate.estimate;
  if (!e) return `Off-policy evaluation: no executed decisions${r.stages.length ? ` in ${r.stages.join(', ')}` : ''} yet\n`;
  return [
    `Off-policy evaluation (reward: ${r.reward}; ${e.n} executed decisions in ${r.stages.join(', ')})`,
    `  what it means: ${r.explanation}`,
    `  logging policy value (observed): ${pct(r.loggingValue)}`,
    `  candidate: ${r.candidate.name}`,
    `    IPS   ${pct(e.ips)}  95% CI ${ci(e.ipsCi95, pct)}`,
    `    SNIPS ${pct(e.snips)}  95% CI ${ci(e.snipsCi95, pct)}`,
    `    effective sample size ${e.effectiveSampleSize.toFixed(0)} of ${e.n}, mean weight ${e.meanWeight.toFixed(3)}`,
    e.reliable ? '    support: adequate' : `    UNRELIABLE (poor support): ${e.supportWarnings.join('; ')}`,
    '',
  ].join('\n');
}

export function render(name: ReportName, report: unknown): string {
  switch (name) {
    case 'attribution':
      return renderAttribution(report as AttributionReport);
    case 'clv':
      return renderClv(report as ClvReport);
    case 'satisfaction':
      return renderSatisfaction(report as SatisfactionReport);
    case 'ope':
      return renderOpe(report as OpeReport);
    case 'segments':
      return renderSegments(report as SegmentsReport);
  }
}
