import type { AttributionReport, ClvReport, OpeReport, SatisfactionReport } from './attribution';
import { renderClv } from './clv/report';
import { money, pct, table } from './format';
import type { ReportName } from './routes';

const ci = (i: { low: number; high: number } | null, f: (v: number) => string): string => (i ? `[${f(i.low)}, ${f(i.high)}]` : '-');
const pp = (v: number) => `${(v * 100).toFixed(1)}pp`;

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
      'Uplift of TREATMENT over CONTROL (difference of proportions, 95% CI)',
      ['stage', 'action', 'n treat', 'treat rate', 'n ctrl', 'ctrl rate', 'uplift', '95% CI', 'rel. lift', 'significant'],
      r.uplift.map((u) => [
        u.journeyStage,
        u.actionId,
        u.treatmentN,
        pct(u.treatmentRate),
        u.controlN,
        pct(u.controlRate),
        pp(u.uplift),
        ci(u.ci95, pp),
        u.relativeLift === null ? '-' : pct(u.relativeLift),
        u.significant ? 'yes' : 'no',
      ]),
    ),
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
      'CSAT of TREATMENT minus CONTROL (difference of means, 95% CI)',
      ['stage', 'action', 'n treat', 'mean treat', 'n ctrl', 'mean ctrl', 'difference', '95% CI'],
      r.csatByArm.map((a) => [
        a.journeyStage,
        a.actionId,
        a.treatmentN,
        a.treatmentMean,
        a.controlN,
        a.controlMean,
        a.difference,
        ci(a.ci95, (v) => v.toFixed(2)),
      ]),
    ),
    ...renderSurveyExperiments(r),
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
              d.significant ? 'yes' : 'no',
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
    ),
    table(
      'Answers of TREATMENT minus CONTROL (difference of means, 95% CI; compare response rates above: non-response can bias it)',
      ['experiment', 'action', 'score', 'n treat', 'mean treat', 'n ctrl', 'mean ctrl', 'difference', '95% CI', 'significant'],
      differences,
    ),
  ];
}

export function renderOpe(r: OpeReport): string {
  const e = r.candidate.estimate;
  if (!e) return `Off-policy evaluation: no executed decisions${r.stages.length ? ` in ${r.stages.join(', ')}` : ''} yet\n`;
  return [
    `Off-policy evaluation (reward: ${r.reward}; ${e.n} executed decisions in ${r.stages.join(', ')})`,
    `  logging policy value (observed): ${pct(r.loggingValue)}`,
    `  candidate: ${r.candidate.name}`,
    `    IPS   ${pct(e.ips)}  95% CI ${ci(e.ipsCi95, pct)}`,
    `    SNIPS ${pct(e.snips)}  95% CI ${ci(e.snipsCi95, pct)}`,
    `    effective sample size ${e.effectiveSampleSize.toFixed(0)}, mean weight ${e.meanWeight.toFixed(3)}`,
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
  }
}
