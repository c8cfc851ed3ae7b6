/**
 * The `segments` report (ideal customer profiles, issue 13 part 4): per segment of customers —
 * journey stage, acquisition channel (the sales channel of the first purchase), main category (the
 * one most browsed or bought, defined in core's main-category, which the engine shares) — the predicted CLV and P(alive) under the fitted model, how
 * often purchases came right after a delivered discount, how often customers held out (control
 * arm, no contact before) converted anyway, and the uplift of each action with its interval.
 *
 * It answers which customers need the least effort and discount and would stay without a contact,
 * and lists the (segment, action) pairs whose uplift interval lies at or below 0 — sure things and
 * sleeping dogs — as `upliftSuppressions` rules for the engine's policy (customer first), which
 * the engine matches on every dimension.
 *
 * Uplift is intent-to-treat per customer, as in the attribution report: each customer's first
 * experiment decision per action (arm and decision-time stage), counted only once its conversion
 * window has closed before as-of. Its segments are the ones known at that exposure (stage then;
 * acquisition channel only if the first purchase came before it, else NONE; main category over the
 * events up to it), as the engine sees them when it decides. The profiles (CLV, exposure, holdout)
 * take each customer's segments as of as-of.
 * All queries are parameterised.
 */
import { MAIN_CATEGORY_MAX_DISTINCT } from '@nextact/core/src/main-category';
import { customerFuture, parametersOf } from '@nextact/core/src/models';
import { clvMethod, fitCustomerFutures, latestAsOf, summariesView } from '../futures/fit';
import { type ClickHouse, qualified } from '../store/clickhouse';
import { positiveInt } from '../store/values';
import { money, pct, table } from './format';
import { type Interval, MIN_CUSTOMERS_PER_ARM, type Uplift, uplift, wilson } from './stats';

export const SEGMENT_DIMENSIONS = ['stage', 'acquisitionChannel', 'mainCategory'] as const;
export type SegmentDimension = (typeof SEGMENT_DIMENSIONS)[number];
const NONE = 'NONE';

export interface SegmentActionUplift extends Uplift {
  actionId: string;
}

export interface SegmentRow {
  dimension: SegmentDimension;
  value: string;
  customers: number;
  /** Customers with a purchase before as-of: the ones the model scores. */
  buyers: number;
  meanPAlive: number | null;
  meanPredictedClvMinor: number | null;
  /** Purchases preceded by a delivered discount decision within the window, of all purchases. */
  purchases: number;
  discountExposure: { share: number; ci95: Interval } | null;
  /**
   * Customers held out at their first experiment decision (CONTROL, no contact delivered before it)
   * whose window has closed; conversionWithoutContact is how many of them converted within it.
   */
  heldOut: number;
  conversionWithoutContact: { rate: number; ci95: Interval } | null;
  uplift: SegmentActionUplift[];
}

export interface UpliftSuppressionRule {
  action: string;
  stage?: string;
  acquisitionChannel?: string;
  mainCategory?: string;
  note: string;
}

export interface SegmentsReport {
  asOf: string;
  windowHours: number;
  horizonDays: number;
  discountActions: string[];
  minPerArm: number;
  modelVersion: string | null;
  method: string;
  segments: SegmentRow[];
  /** (segment, action) pairs with enough customers per arm and an uplift interval at or below 0. */
  noUplift: { dimension: SegmentDimension; value: string; actionId: string; ci95: Interval }[];
  /** The same, ready for the policy's `upliftSuppressions` (the engine matches every dimension). */
  policyRules: UpliftSuppressionRule[];
}

export interface SegmentsReportOptions {
  asOf?: number;
  windowHours?: number;
  horizonDays?: number;
  /** Actions that are discounts (exposure before purchase); default: ids containing "discount". */
  discountActions?: string[];
  minPerArm?: number;
}

const n = (v: unknown): number => (v === null || v === undefined || v === '' ? 0 : Number(v));
const label = (v: unknown): string => (v === null || v === undefined || v === '' ? NONE : String(v));

/**
 * Main category (core's main-category) from per-category event counts `n` of `category`, grouped
 * by customer: the most events, ties to the greatest name (ClickHouse compares strings bytewise),
 * none past the bound of distinct categories.
 */
const MAIN_CATEGORY_OF_COUNTS = `if(count() > {maxCategories:UInt32}, '', argMax(category, (n, category)))`;

/** Per customer: segment dimensions as of as-of (shared by both queries). */
function segmentCtes(db: string): string {
  return `
    as_of_time AS (SELECT fromUnixTimestamp64Milli({asOf:Int64}, 'UTC') AS t),
    ev AS (SELECT * FROM ${qualified(db, 'events')} WHERE event_time < (SELECT t FROM as_of_time) LIMIT 1 BY event_id),
    dims AS
    (
        SELECT customer_id,
               if(countIf(event_type = 'purchase') > 0, argMinIf(JSONExtractString(raw, 'channel'), event_time, event_type = 'purchase'), '') AS acquisition,
               minIf(event_time, event_type = 'purchase') AS first_purchase_time
        FROM ev GROUP BY customer_id
    ),
    -- The events a main category counts: browse, and purchase by its first line item's category.
    category_events AS
    (
        SELECT customer_id, assumeNotNull(category) AS category, event_time
        FROM ev WHERE event_type IN ('browse', 'purchase') AND ifNull(category, '') != ''
    ),
    main_category AS
    (
        SELECT customer_id, ${MAIN_CATEGORY_OF_COUNTS} AS category
        FROM (SELECT customer_id, category, count() AS n FROM category_events GROUP BY customer_id, category)
        GROUP BY customer_id
    ),
    latest_stage AS
    (
        SELECT customer_id, argMax(journey_stage, event_time) AS stage
        FROM (SELECT * FROM ${qualified(db, 'decisions')} WHERE event_time < (SELECT t FROM as_of_time) LIMIT 1 BY decision_id)
        GROUP BY customer_id
    )`;
}

function customerQuery(db: string, view: string): string {
  // The shared CTEs are joined by concatenation: each part interpolates identifiers only (qualified()).
  return (
    `
    WITH ` +
    segmentCtes(db) +
    `,
    discounts AS
    (
        SELECT customer_id, event_time
        FROM (SELECT * FROM ${qualified(db, 'decisions')} WHERE deliver AND has({discountActions:Array(String)}, action_id) AND event_time < (SELECT t FROM as_of_time) LIMIT 1 BY decision_id)
    ),
    exposure AS
    (
        SELECT customer_id, count() AS purchases, countIf(exposed) AS exposed
        FROM
        (
            SELECT p.event_id AS event_id, any(p.customer_id) AS customer_id,
                   countIf(d.customer_id != '' AND d.event_time < p.event_time AND d.event_time >= p.event_time - toIntervalHour({windowHours:UInt32})) > 0 AS exposed
            FROM (SELECT event_id, customer_id, event_time FROM ev WHERE event_type = 'purchase') AS p
            LEFT JOIN discounts AS d ON d.customer_id = p.customer_id
            GROUP BY p.event_id
        )
        GROUP BY customer_id
    ),
    contact AS
    (
        -- Held out: the customer's first experiment decision was CONTROL and nothing was delivered before it.
        SELECT customer_id,
               countIf(experiment_arm IN ('TREATMENT', 'CONTROL')) > 0
                 AND argMinIf(experiment_arm, event_time, experiment_arm IN ('TREATMENT', 'CONTROL')) = 'CONTROL'
                 AND (countIf(deliver) = 0 OR minIf(event_time, deliver) > minIf(event_time, experiment_arm IN ('TREATMENT', 'CONTROL'))) AS held_out,
               argMinIf(converted, event_time, experiment_arm IN ('TREATMENT', 'CONTROL')) AS held_out_converted
        FROM ${qualified(db, 'decision_outcomes')}(window_hours = {windowHours:UInt32})
        WHERE event_time + toIntervalHour({windowHours:UInt32}) <= (SELECT t FROM as_of_time)
        GROUP BY customer_id
    ),
    summaries AS (SELECT customer_id, 1 AS bought, x, t_x, T, mean_spend FROM ${view})
    SELECT dims.customer_id AS customer_id, dims.acquisition AS acquisition, main_category.category AS category, latest_stage.stage AS stage,
           summaries.bought AS bought, summaries.x AS x, summaries.t_x AS t_x, summaries.T AS T, summaries.mean_spend AS mean_spend,
           exposure.purchases AS purchases, exposure.exposed AS exposed,
           contact.held_out AS held_out, contact.held_out_converted AS held_out_converted
    FROM dims
    LEFT JOIN main_category ON main_category.customer_id = dims.customer_id
    LEFT JOIN latest_stage ON latest_stage.customer_id = dims.customer_id
    LEFT JOIN summaries ON summaries.customer_id = dims.customer_id
    LEFT JOIN exposure ON exposure.customer_id = dims.customer_id
    LEFT JOIN contact ON contact.customer_id = dims.customer_id`
  );
}

/** Each customer's first experiment exposure per action, and the main category the engine saw then. */
function exposureCtes(db: string): string {
  return `,
    first_exposure AS
    (
        SELECT customer_id, action_id,
               argMin(journey_stage, event_time) AS stage,
               argMin(experiment_arm, event_time) AS arm,
               argMin(converted, event_time) AS converted,
               min(event_time) AS exposed_at
        FROM ${qualified(db, 'decision_outcomes')}(window_hours = {windowHours:UInt32})
        WHERE experiment_arm IN ('TREATMENT', 'CONTROL') AND event_time + toIntervalHour({windowHours:UInt32}) <= (SELECT t FROM as_of_time)
        GROUP BY customer_id, action_id
    ),
    -- The main category the engine saw at the exposure: from the events up to it.
    exposure_category AS
    (
        SELECT customer_id, action_id, ${MAIN_CATEGORY_OF_COUNTS} AS category
        FROM
        (
            SELECT f.customer_id AS customer_id, f.action_id AS action_id, c.category AS category, count() AS n
            FROM first_exposure AS f
            INNER JOIN category_events AS c ON c.customer_id = f.customer_id
            WHERE c.event_time <= f.exposed_at
            GROUP BY customer_id, action_id, category
        )
        GROUP BY customer_id, action_id
    )`;
}

function upliftQuery(db: string): string {
  return (
    `
    WITH ` +
    segmentCtes(db) +
    exposureCtes(db) +
    `
    SELECT f.stage AS stage,
           -- Segments must be known before the exposure: a first purchase after it may be its outcome.
           if(dims.acquisition != '' AND dims.first_purchase_time < f.exposed_at, dims.acquisition, '') AS acquisition,
           x.category AS category, f.action_id AS action_id,
           countIf(f.arm = 'TREATMENT') AS tn, countIf(f.arm = 'TREATMENT' AND f.converted) AS tc,
           countIf(f.arm = 'CONTROL') AS cn, countIf(f.arm = 'CONTROL' AND f.converted) AS cc
    FROM first_exposure AS f
    LEFT JOIN dims ON dims.customer_id = f.customer_id
    LEFT JOIN exposure_category AS x ON x.customer_id = f.customer_id AND x.action_id = f.action_id
    GROUP BY stage, acquisition, category, action_id`
  );
}

interface Accumulator {
  customers: number;
  buyers: number;
  pAlive: number;
  clv: number;
  purchases: number;
  exposed: number;
  heldOut: number;
  heldOutConverted: number;
  arms: Map<string, { tn: number; tc: number; cn: number; cc: number }>;
}

const blank = (): Accumulator => ({
  customers: 0,
  buyers: 0,
  pAlive: 0,
  clv: 0,
  purchases: 0,
  exposed: 0,
  heldOut: 0,
  heldOutConverted: 0,
  arms: new Map(),
});

/** Each customer's main category from the events before as-of (customers with none left out): the report's segments. */
export async function mainCategories(store: ClickHouse, asOf: number): Promise<Map<string, string>> {
  const rows = await store.rows<{ customer_id: string; category: string }>(
    `WITH ${segmentCtes(store.database)} SELECT customer_id, category FROM main_category WHERE category != ''`,
    { asOf, maxCategories: MAIN_CATEGORY_MAX_DISTINCT },
  );
  return new Map(rows.map((r) => [r.customer_id, r.category]));
}

/** The main category at each customer's first exposure per action (`<customer>|<action>`; none left out): the uplift's segments. */
export async function exposureCategories(store: ClickHouse, asOf: number, windowHours: number): Promise<Map<string, string>> {
  const rows = await store.rows<{ customer_id: string; action_id: string; category: string }>(
    `WITH ${segmentCtes(store.database)}${exposureCtes(store.database)} SELECT customer_id, action_id, category FROM exposure_category WHERE category != ''`,
    { asOf, windowHours, maxCategories: MAIN_CATEGORY_MAX_DISTINCT },
  );
  return new Map(rows.map((r) => [`${r.customer_id}|${r.action_id}`, r.category]));
}

export async function segmentsReport(store: ClickHouse, options: SegmentsReportOptions = {}): Promise<SegmentsReport> {
  const windowHours = positiveInt(options.windowHours ?? 72, 'windowHours', 24 * 365);
  const horizonDays = positiveInt(options.horizonDays ?? 365, 'horizonDays', 3650);
  const minPerArm = positiveInt(options.minPerArm ?? MIN_CUSTOMERS_PER_ARM, 'minPerArm', 1_000_000);
  const asOf = options.asOf ?? (await latestAsOf(store));
  const db = store.database;
  const discountActions =
    options.discountActions ??
    (
      await store.rows<{ a: string }>(
        `SELECT DISTINCT action_id AS a FROM ${qualified(db, 'decisions')} WHERE positionCaseInsensitive(action_id, 'discount') > 0 ORDER BY a`,
      )
    ).map((r) => r.a);
  let model: Awaited<ReturnType<typeof fitCustomerFutures>>['model'] | null = null;
  try {
    model = (await fitCustomerFutures(store, { asOf, horizonDays })).model;
  } catch (err) {
    if (!(err instanceof RangeError)) throw err; // too few customers to fit: the rest of the report stands
  }
  const params = model ? parametersOf(model) : null;
  const groups = new Map<SegmentDimension, Map<string, Accumulator>>(SEGMENT_DIMENSIONS.map((d) => [d, new Map()]));
  const accumulatorsOf = (values: Record<SegmentDimension, string>): Accumulator[] =>
    SEGMENT_DIMENSIONS.map((d) => {
      const byValue = groups.get(d)!;
      let acc = byValue.get(values[d]);
      if (!acc) {
        acc = blank();
        byValue.set(values[d], acc);
      }
      return acc;
    });

  const queryParams = { asOf, windowHours, discountActions, maxCategories: MAIN_CATEGORY_MAX_DISTINCT };
  const rs = await store.client.query({ query: customerQuery(db, summariesView(store)), query_params: queryParams, format: 'JSONEachRow' });
  for await (const rows of rs.stream<Record<string, unknown>>()) {
    for (const row of rows) {
      const r = row.json();
      const future = params && n(r.bought) === 1 ? customerFuture(params, { x: n(r.x), tx: n(r.t_x), T: n(r.T), meanSpend: n(r.mean_spend) }) : null;
      for (const acc of accumulatorsOf({ stage: label(r.stage), acquisitionChannel: label(r.acquisition), mainCategory: label(r.category) })) {
        acc.customers++;
        if (future) {
          acc.buyers++;
          acc.pAlive += future.pAlive;
          acc.clv += future.clv ?? 0;
        }
        acc.purchases += n(r.purchases);
        acc.exposed += n(r.exposed);
        if (n(r.held_out) === 1) {
          acc.heldOut++;
          acc.heldOutConverted += n(r.held_out_converted);
        }
      }
    }
  }
  for (const r of await store.rows<Record<string, unknown>>(upliftQuery(db), queryParams)) {
    const values = { stage: label(r.stage), acquisitionChannel: label(r.acquisition), mainCategory: label(r.category) };
    for (const acc of accumulatorsOf(values)) {
      const arm = acc.arms.get(String(r.action_id)) ?? { tn: 0, tc: 0, cn: 0, cc: 0 };
      arm.tn += n(r.tn);
      arm.tc += n(r.tc);
      arm.cn += n(r.cn);
      arm.cc += n(r.cc);
      acc.arms.set(String(r.action_id), arm);
    }
  }

  const segments: SegmentRow[] = [];
  for (const dimension of SEGMENT_DIMENSIONS) {
    for (const [value, a] of [...groups.get(dimension)!].sort(([x], [y]) => x.localeCompare(y))) {
      const upliftRows: SegmentActionUplift[] = [];
      for (const [actionId, arm] of [...a.arms].sort(([x], [y]) => x.localeCompare(y))) {
        if (arm.tn === 0 || arm.cn === 0) continue;
        upliftRows.push({ actionId, ...uplift({ n: arm.tn, conversions: arm.tc }, { n: arm.cn, conversions: arm.cc }, { minPerArm }) });
      }
      segments.push({
        dimension,
        value,
        customers: a.customers,
        buyers: a.buyers,
        meanPAlive: a.buyers > 0 && params ? a.pAlive / a.buyers : null,
        meanPredictedClvMinor: a.buyers > 0 && params?.gammaGamma ? a.clv / a.buyers : null,
        purchases: a.purchases,
        discountExposure: a.purchases > 0 ? { share: a.exposed / a.purchases, ci95: wilson(a.exposed, a.purchases) } : null,
        heldOut: a.heldOut,
        conversionWithoutContact: a.heldOut > 0 ? { rate: a.heldOutConverted / a.heldOut, ci95: wilson(a.heldOutConverted, a.heldOut) } : null,
        uplift: upliftRows,
      });
    }
  }
  const asOfText = new Date(asOf).toISOString();
  const noUplift = segments.flatMap((s) =>
    s.uplift
      .filter((u) => u.enough && u.ci95.high <= 0 && s.value !== NONE)
      .map((u) => ({ dimension: s.dimension, value: s.value, actionId: u.actionId, ci95: u.ci95 })),
  );
  const policyRules: UpliftSuppressionRule[] = noUplift.map((x) => ({
    action: x.actionId,
    [x.dimension]: x.value,
    note: `segments report as of ${asOfText}: uplift 95% CI [${(x.ci95.low * 100).toFixed(1)}, ${(x.ci95.high * 100).toFixed(1)}] pp`,
  }));
  return {
    asOf: asOfText,
    windowHours,
    horizonDays,
    discountActions,
    minPerArm,
    modelVersion: model?.version ?? null,
    method: `${model ? `${clvMethod} (model ${model.version})` : 'no customer-futures model (too few customers)'}; uplift: Newcombe score interval of TREATMENT - CONTROL conversion, first exposure per customer and action`,
    segments,
    noUplift,
    policyRules,
  };
}

const interval = (i: Interval | undefined, f: (v: number) => string) => (i ? `[${f(i.low)}, ${f(i.high)}]` : '-');
const pp = (v: number) => `${(v * 100).toFixed(1)}`;

export function renderSegments(r: SegmentsReport): string {
  const lines = [
    `Ideal customer profiles as of ${r.asOf} (conversion window ${r.windowHours} h, CLV horizon ${r.horizonDays} d)`,
    `  method: ${r.method}`,
    `  discount actions: ${r.discountActions.join(', ') || '(none)'}`,
    '',
  ];
  for (const dimension of SEGMENT_DIMENSIONS) {
    const rows = r.segments.filter((s) => s.dimension === dimension);
    lines.push(
      table(
        `By ${dimension}`,
        ['segment', 'customers', 'buyers', 'mean P(alive)', 'mean CLV', 'purchases', 'after discount', '95% CI', 'held out', 'converted w/o contact', '95% CI'],
        rows.map((s) => [
          s.value,
          s.customers,
          s.buyers,
          s.meanPAlive === null ? null : Number(s.meanPAlive.toFixed(3)),
          money(s.meanPredictedClvMinor),
          s.purchases,
          pct(s.discountExposure?.share),
          interval(s.discountExposure?.ci95, pct),
          s.heldOut,
          pct(s.conversionWithoutContact?.rate),
          interval(s.conversionWithoutContact?.ci95, pct),
        ]),
      ),
      table(
        `Uplift per action by ${dimension} (pp, TREATMENT - CONTROL; at least ${r.minPerArm} per arm to judge)`,
        ['segment', 'action', 'n treat', 'rate treat', 'n ctrl', 'rate ctrl', 'uplift', '95% CI', 'verdict'],
        rows.flatMap((s) =>
          s.uplift.map((u) => [
            s.value,
            u.actionId,
            u.treatmentN,
            pct(u.treatmentRate),
            u.controlN,
            pct(u.controlRate),
            pp(u.uplift),
            interval(u.ci95, pp),
            !u.enough ? 'too few' : u.ci95.high <= 0 ? 'no uplift: stop offering' : u.significant ? 'uplift' : 'unclear',
          ]),
        ),
      ),
    );
  }
  lines.push(
    r.policyRules.length === 0
      ? 'No segment has an uplift interval at or below 0 with enough customers: no upliftSuppressions to propose.'
      : [
          'Proposed policy rules (customer first: stop offering where the uplift interval lies at or below 0):',
          'upliftSuppressions:',
          ...r.policyRules.map((x) => `  - ${JSON.stringify(x)}`),
        ].join('\n'),
  );
  return lines.join('\n');
}
