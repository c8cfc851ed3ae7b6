import { type ClickHouse, qualified } from './clickhouse';
import {
  type CandidatePolicy,
  type ComparisonOptions,
  comparableMeans,
  type MeanDifference,
  MIN_CUSTOMERS_PER_ARM,
  type MultipleComparisons,
  meanDifference,
  multipleComparisons,
  type OpeEstimate,
  type OpeGroup,
  offPolicyEstimate,
  opeExplanation,
  type Uplift,
  uplift,
} from './stats';

/**
 * The four reports. The SQL lives in views created by the migrations (so analysts get the same
 * numbers from a SQL prompt); this module passes the windows as query parameters and adds the
 * statistics that SQL expresses poorly (intervals, off-policy estimates).
 */

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function positiveInt(value: number, name: string, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw new RangeError(`${name} must be an integer 1..${max}, got ${value}`);
  return value;
}

// ---- What the data covers ---------------------------------------------------------------------

/** The event-time span of the stored events: a report's windows close only inside it. */
export interface Coverage {
  firstEventTime: string | null;
  lastEventTime: string | null;
  /** Hours from the first to the last event (simulated time for a simulated run). */
  spanHours: number;
  events: number;
}

export async function dataCoverage(store: ClickHouse): Promise<Coverage> {
  const [r] = await store.rows<Record<string, unknown>>(
    `SELECT count() AS n, toUnixTimestamp64Milli(min(event_time)) AS first, toUnixTimestamp64Milli(max(event_time)) AS last FROM ${qualified(store.database, 'events')}`,
  );
  const events = num(r?.n);
  if (events === 0) return { firstEventTime: null, lastEventTime: null, spanHours: 0, events };
  const first = num(r?.first);
  const last = num(r?.last);
  return { firstEventTime: new Date(first).toISOString(), lastEventTime: new Date(last).toISOString(), spanHours: (last - first) / 3_600_000, events };
}

const hours = (h: number): string => (h >= 48 ? `${h.toFixed(0)} h (${(h / 24).toFixed(1)} d)` : `${h.toFixed(1)} h`);

/** Why a comparison table is empty, in the reader's terms; null when it has rows. */
export function emptyReason(rows: number, coverage: Coverage, windowHours: number, what: string): string | null {
  if (rows > 0) return null;
  if (coverage.events === 0) return 'no events stored yet';
  if (coverage.spanHours < windowHours) return `no closed ${windowHours} h windows yet: the events span ${hours(coverage.spanHours)}`;
  return `${what} (events span ${hours(coverage.spanHours)})`;
}

function minPerArmOption(value: number | undefined): number {
  return value === undefined ? MIN_CUSTOMERS_PER_ARM : positiveInt(value, 'minPerArm', 1_000_000);
}

// ---- Attribution ----------------------------------------------------------------------------

export interface SegmentRow {
  actionId: string;
  channel: string;
  journeyStage: string;
  experimentArm: string;
  decisions: number;
  deliveries: number;
  conversions: number;
  revenueMinor: number;
  conversionRate: number;
}

export interface UpliftRow extends Uplift {
  actionId: string;
  journeyStage: string;
}

export interface AttributionReport {
  windowHours: number;
  coverage: Coverage;
  segments: SegmentRow[];
  uplift: UpliftRow[];
  /** Fewest customers per arm before an uplift is called significant. */
  minPerArm: number;
  upliftComparisons: MultipleComparisons;
  /** Why `uplift` is empty; null when it has rows. */
  upliftEmpty: string | null;
}

export async function attributionReport(store: ClickHouse, options: { windowHours?: number; minPerArm?: number } = {}): Promise<AttributionReport> {
  const windowHours = positiveInt(options.windowHours ?? 72, 'windowHours', 24 * 365);
  const minPerArm = minPerArmOption(options.minPerArm);
  const db = store.database;
  const segments = await store.rows<Record<string, unknown>>(
    `SELECT * FROM ${qualified(db, 'attribution_by_segment')}(window_hours = {w:UInt32})
     ORDER BY journey_stage, action_id, channel, experiment_arm`,
    { w: windowHours },
  );
  const inputs = await store.rows<Record<string, unknown>>(
    `SELECT * FROM ${qualified(db, 'uplift_inputs')}(window_hours = {w:UInt32}) ORDER BY journey_stage, action_id`,
    { w: windowHours },
  );
  const counts = inputs.map((r) => ({
    actionId: String(r.action_id),
    journeyStage: String(r.journey_stage),
    treatment: { n: num(r.treatment_n), conversions: num(r.treatment_conversions) },
    control: { n: num(r.control_n), conversions: num(r.control_conversions) },
  }));
  const rows: (UpliftRow & { counts: (typeof counts)[number] })[] = counts.map((c) => ({
    actionId: c.actionId,
    journeyStage: c.journeyStage,
    ...uplift(c.treatment, c.control, { minPerArm }),
    counts: c,
  }));
  const upliftComparisons = multipleComparisons(rows, (r, confidence) => uplift(r.counts.treatment, r.counts.control, { confidence, minPerArm }).significant);
  const coverage = await dataCoverage(store);
  return {
    windowHours,
    coverage,
    minPerArm,
    upliftComparisons,
    upliftEmpty: emptyReason(rows.length, coverage, windowHours, `no action has both TREATMENT and CONTROL customers whose ${windowHours} h window has closed`),
    segments: segments.map((r) => ({
      actionId: String(r.action_id),
      channel: String(r.channel),
      journeyStage: String(r.journey_stage),
      experimentArm: String(r.experiment_arm),
      decisions: num(r.decisions),
      deliveries: num(r.deliveries),
      conversions: num(r.conversions),
      revenueMinor: num(r.revenue_minor),
      conversionRate: num(r.conversion_rate),
    })),
    uplift: rows.map(({ counts: _, ...u }) => u),
  };
}

// ---- Customer lifetime value: see clv/ (BG/NBD + Gamma-Gamma) -------------------------------

export { type ClvAttributionRow, type ClvReport, clvReport } from './clv/report';

// ---- NPS and CSAT ----------------------------------------------------------------------------

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

// ---- Off-policy evaluation -------------------------------------------------------------------

export interface OpeReport {
  windowHours: number;
  /** Reward: conversion within the window after the decision. */
  reward: string;
  /** Journey stages evaluated: those the candidate mapping names (all for a function or the default). */
  stages: string[];
  groups: OpeGroup[];
  /** Null estimate when no executed decision falls in the evaluated stages yet. */
  candidate: { name: string; estimate: OpeEstimate | null };
  /** Sanity check: the logging policy's observed value (mean reward of executed decisions). */
  loggingValue: number | null;
  /** What IPS, SNIPS and effective sample size mean, in one line. */
  explanation: string;
  coverage: Coverage;
}

export async function opeInputs(store: ClickHouse, windowHours: number): Promise<OpeGroup[]> {
  const rows = await store.rows<Record<string, unknown>>(
    `SELECT * FROM ${qualified(store.database, 'ope_inputs')}(window_hours = {w:UInt32}) ORDER BY journey_stage, action_id`,
    { w: windowHours },
  );
  return rows.map((r) => ({
    stage: String(r.journey_stage),
    action: String(r.action_id),
    n: num(r.n),
    rewards: num(r.rewards),
    sumInvP: num(r.sum_inv_p),
    sumRInvP: num(r.sum_r_inv_p),
    sumInvP2: num(r.sum_inv_p2),
    sumRInvP2: num(r.sum_r_inv_p2),
  }));
}

/** Uniform over the actions logged in each stage: the default candidate when none is given. */
export function uniformPolicy(groups: OpeGroup[]): Record<string, Record<string, number>> {
  const actions = new Map<string, Set<string>>();
  for (const g of groups) actions.set(g.stage, (actions.get(g.stage) ?? new Set()).add(g.action));
  return Object.fromEntries([...actions].map(([stage, set]) => [stage, Object.fromEntries([...set].map((a) => [a, 1 / set.size]))]));
}

/** Checks a stage -> action -> probability map: probabilities in [0, 1], each stage summing to at most 1. */
export function parsePolicy(input: unknown): Record<string, Record<string, number>> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new RangeError('policy must be an object: stage -> { action: probability }');
  const out: Record<string, Record<string, number>> = {};
  for (const [stage, actions] of Object.entries(input)) {
    if (typeof actions !== 'object' || actions === null || Array.isArray(actions))
      throw new RangeError(`policy.${stage} must be an object: action -> probability`);
    let total = 0;
    out[stage] = {};
    for (const [action, p] of Object.entries(actions)) {
      if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`policy.${stage}.${action} must be a probability in [0, 1]`);
      total += p;
      out[stage][action] = p;
    }
    if (total > 1 + 1e-9) throw new RangeError(`policy.${stage} probabilities sum to ${total}, more than 1`);
  }
  return out;
}

export async function opeReport(store: ClickHouse, options: { windowHours?: number; policy?: CandidatePolicy; policyName?: string } = {}): Promise<OpeReport> {
  const windowHours = positiveInt(options.windowHours ?? 72, 'windowHours', 24 * 365);
  const all = await opeInputs(store, windowHours);
  // A mapping covers the stages it names; the others are not evaluated (a function covers all).
  const policy = options.policy;
  const groups = policy && typeof policy !== 'function' ? all.filter((g) => Object.hasOwn(policy, g.stage)) : all;
  const estimate = groups.length === 0 ? null : offPolicyEstimate(groups, policy ?? uniformPolicy(groups));
  return {
    windowHours,
    reward: `conversion within ${windowHours} h of the decision`,
    stages: [...new Set(groups.map((g) => g.stage))].sort(),
    groups,
    candidate: { name: options.policyName ?? (options.policy ? 'given' : 'uniform over logged actions per stage'), estimate },
    loggingValue: estimate?.loggingValue ?? null,
    explanation: opeExplanation,
    coverage: await dataCoverage(store),
  };
}
