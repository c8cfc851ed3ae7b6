/**
 * NPS and CSAT by the decision before the survey, CSAT of TREATMENT minus CONTROL, and survey
 * timing experiments. The SQL lives in views created by the migrations; this module adds the
 * differences of means and their intervals.
 */
import { type ClickHouse, qualified } from '../store/clickhouse';
import { num, numOrNull, positiveInt } from '../store/values';
import { type Coverage, dataCoverage, emptyReason, minPerArmOption } from './coverage';
import { ci, note, pct, table, verdict } from './format';
import { type ComparisonOptions, comparableMeans, type MeanDifference, type MultipleComparisons, meanDifference, multipleComparisons } from './stats';

export interface SatisfactionRow {
  journeyStage: string;
  actionId: string;
  experimentArm: string;
  responses: number;
  npsResponses: number;
  promoters: number;
  detractors: number;
  /** % promoters (9-10) minus % detractors (0-6); null without NPS answers. */
  nps: number | null;
  csatResponses: number;
  csatMean: number | null;
  /** Share of CSAT answers that are 4 or 5. */
  csatTop2Share: number | null;
}

/** One arm of a survey timing experiment (see `SurveyExperimentRow`). */
export interface SurveyArmStats {
  /** Delivered decisions of the experiment's action in this arm (CONTROL: the follow-ups that delivered). */
  delivered: number;
  /** Delivered decisions with an answer naming them within the window. */
  answered: number;
  /** answered / delivered. */
  responseRate: number;
  /** Decisions that deferred the action (reason code EXPERIMENT_DEFERRED:...); 0 in TREATMENT. */
  deferred: number;
  /** Follow-ups of those deferrals that a gate blocked when they came due: deferred, never delivered. */
  followUpsBlocked: number;
  csatMean: number | null;
  npsMean: number | null;
  /** % promoters (9-10) minus % detractors (0-6) among the answers; null without NPS answers. */
  nps: number | null;
}

/**
 * A timing experiment on a survey action: TREATMENT delivers the survey at once, CONTROL defers it
 * and delivers it from a follow-up. Both arms are surveyed, so `csat` and `nps` compare the answers
 * to the experiment's own surveys (the first answer naming a delivered decision within the window;
 * other surveys of the same customers do not count): TREATMENT minus CONTROL, Welch standard error,
 * 95% CI. They compare those who answered, so read them with the arms' response rates and CONTROL's
 * attrition (blocked follow-ups): if the timing changes who answers, the difference mixes the
 * effect of timing on satisfaction with the effect on who responds.
 */
export interface SurveyExperimentRow {
  experimentId: string;
  actionId: string;
  treatment: SurveyArmStats;
  control: SurveyArmStats;
  /** Null when an arm has no CSAT answer. */
  csat: MeanDifference | null;
  /** Difference of mean NPS answers (0-10 scale, not the promoter score); null when an arm has no NPS answer. */
  nps: MeanDifference | null;
}

export interface SatisfactionReport {
  windowDays: number;
  coverage: Coverage;
  minPerArm: number;
  /** Bonferroni over the CSAT-by-arm table and the survey experiments' differences together. */
  comparisons: MultipleComparisons;
  /** Why `surveyExperiments` is empty; null when it has rows. */
  surveyExperimentsEmpty: string | null;
  segments: SatisfactionRow[];
  /** How surveys found their decision: by the decisionId they carry, by ASOF time join, or not at all. */
  joinedBy: Record<string, number>;
  /** CSAT of TREATMENT minus CONTROL per action and stage (difference of means). */
  csatByArm: (MeanDifference & { actionId: string; journeyStage: string })[];
  /** Timing experiments on surveys (both arms deliver; answers within windowDays of delivery). */
  surveyExperiments: SurveyExperimentRow[];
}

const surveyArm = (r: Record<string, unknown>): SurveyArmStats => ({
  delivered: num(r.delivered),
  answered: num(r.answered),
  responseRate: num(r.response_rate),
  deferred: num(r.deferred),
  followUpsBlocked: num(r.followups_blocked),
  csatMean: numOrNull(r.csat_mean),
  npsMean: numOrNull(r.nps_mean),
  nps: numOrNull(r.nps_score),
});

type Moments = { n: number; mean: number; variance: number | null };

/** Compared groups' moments, kept so a correction for many comparisons can recompute the interval. */
const compared = new WeakMap<MeanDifference, { treatment: Moments; control: Moments; minPerArm: number }>();

function compare(treatment: Moments, control: Moments, options: ComparisonOptions): MeanDifference {
  const d = meanDifference(treatment, control, options);
  compared.set(d, { treatment, control, minPerArm: d.minPerArm });
  return d;
}

/** Whether a difference computed by `compare` is significant at another confidence level. */
function significantAt(d: MeanDifference, confidence: number): boolean {
  const inputs = compared.get(d);
  return inputs ? meanDifference(inputs.treatment, inputs.control, { confidence, minPerArm: inputs.minPerArm }).significant : d.significant;
}

/** TREATMENT minus CONTROL of one score; null while either arm has fewer than two answers with it. */
function scoreDifference(t: Record<string, unknown>, c: Record<string, unknown>, score: 'csat' | 'nps', options: ComparisonOptions): MeanDifference | null {
  const moments = (r: Record<string, unknown>) => ({ n: num(r[`${score}_n`]), mean: num(r[`${score}_mean`]), variance: numOrNull(r[`${score}_var`]) });
  const [treatment, control] = [moments(t), moments(c)];
  return comparableMeans(treatment, control) ? compare(treatment, control, options) : null;
}

export async function surveyExperiments(store: ClickHouse, windowDays: number, options: ComparisonOptions = {}): Promise<SurveyExperimentRow[]> {
  const rows = await store.rows<Record<string, unknown>>(
    `SELECT * FROM ${qualified(store.database, 'survey_experiment_answers')}(window_days = {w:UInt32})
     ORDER BY experiment_id, action_id, experiment_arm`,
    { w: positiveInt(windowDays, 'windowDays', 3650) },
  );
  const out: SurveyExperimentRow[] = [];
  for (const t of rows.filter((r) => r.experiment_arm === 'TREATMENT')) {
    const c = rows.find((r) => r.experiment_arm === 'CONTROL' && r.experiment_id === t.experiment_id && r.action_id === t.action_id);
    if (!c) continue;
    out.push({
      experimentId: String(t.experiment_id),
      actionId: String(t.action_id),
      treatment: surveyArm(t),
      control: surveyArm(c),
      csat: scoreDifference(t, c, 'csat', options),
      nps: scoreDifference(t, c, 'nps', options),
    });
  }
  return out;
}

export async function satisfactionReport(store: ClickHouse, options: { windowDays?: number; minPerArm?: number } = {}): Promise<SatisfactionReport> {
  const windowDays = positiveInt(options.windowDays ?? 7, 'windowDays', 3650);
  const minPerArm = minPerArmOption(options.minPerArm);
  const db = store.database;
  const rows = await store.rows<Record<string, unknown>>(
    `SELECT * FROM ${qualified(db, 'satisfaction_by_segment')}(window_days = {w:UInt32}) ORDER BY journey_stage, action_id, experiment_arm`,
    { w: windowDays },
  );
  const joins = await store.rows<{ joined_by: string; n: number | string }>(
    `SELECT joined_by, count() AS n FROM ${qualified(db, 'survey_decisions')}(window_days = {w:UInt32}) GROUP BY joined_by ORDER BY joined_by`,
    { w: windowDays },
  );
  const arms = await store.rows<Record<string, unknown>>(
    `SELECT action_id, journey_stage, experiment_arm, count(csat) AS n, avg(csat) AS mean, varSamp(csat) AS var
     FROM ${qualified(db, 'survey_decisions')}(window_days = {w:UInt32})
     WHERE experiment_arm IN ('TREATMENT', 'CONTROL') AND csat IS NOT NULL
     GROUP BY action_id, journey_stage, experiment_arm`,
    { w: windowDays },
  );
  const csatByArm: SatisfactionReport['csatByArm'] = [];
  for (const t of arms.filter((a) => a.experiment_arm === 'TREATMENT')) {
    const c = arms.find((a) => a.experiment_arm === 'CONTROL' && a.action_id === t.action_id && a.journey_stage === t.journey_stage);
    if (!c) continue;
    const treatment = { n: num(t.n), mean: num(t.mean), variance: numOrNull(t.var) };
    const control = { n: num(c.n), mean: num(c.mean), variance: numOrNull(c.var) };
    if (!comparableMeans(treatment, control)) continue;
    const d = compare(treatment, control, { minPerArm });
    csatByArm.push(Object.assign(d, { actionId: String(t.action_id), journeyStage: String(t.journey_stage) }));
  }
  const experiments = await surveyExperiments(store, windowDays, { minPerArm });
  const differences = [...csatByArm, ...experiments.flatMap((e) => [e.csat, e.nps].filter((d): d is MeanDifference => d !== null))];
  const coverage = await dataCoverage(store);
  return {
    windowDays,
    coverage,
    minPerArm,
    comparisons: multipleComparisons(differences, significantAt),
    surveyExperimentsEmpty: emptyReason(
      experiments.length,
      coverage,
      windowDays * 24,
      'no timing experiment has delivered surveys in both arms yet (CONTROL gets its survey only when the deferral comes due)',
    ),
    segments: rows.map((r) => ({
      journeyStage: String(r.journey_stage),
      actionId: String(r.action_id),
      experimentArm: String(r.experiment_arm),
      responses: num(r.responses),
      npsResponses: num(r.nps_responses),
      promoters: num(r.promoters),
      detractors: num(r.detractors),
      nps: numOrNull(r.nps_score),
      csatResponses: num(r.csat_responses),
      csatMean: numOrNull(r.csat_mean),
      csatTop2Share: numOrNull(r.csat_top2_share),
    })),
    joinedBy: Object.fromEntries(joins.map((j) => [j.joined_by, num(j.n)])),
    csatByArm,
    surveyExperiments: experiments,
  };
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
