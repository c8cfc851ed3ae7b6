/**
 * Attribution: conversions after decisions per segment, and the uplift of TREATMENT over CONTROL.
 * The SQL lives in views created by the migrations (so analysts get the same numbers from a SQL
 * prompt); this module passes the windows as query parameters and adds the intervals.
 */
import { type ClickHouse, qualified } from '../store/clickhouse';
import { num, positiveInt } from '../store/values';
import { type Coverage, dataCoverage, emptyReason, minPerArmOption } from './coverage';
import { ci, money, note, pct, pp, table, verdict } from './format';
import { type MultipleComparisons, multipleComparisons, type Uplift, uplift } from './stats';

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
