import { type ClickHouse, qualified } from '../../store/clickhouse';
import { num } from '../../store/values';
import { type AttributionReport, attributionReport } from '../attribution';
import { type OpeReport, opeReport } from '../ope';
import { type SatisfactionReport, satisfactionReport } from '../satisfaction';

/** Everything the HTML report draws, gathered in one pass over the store. */
export interface HtmlReportData {
  generatedAt: string;
  attribution: AttributionReport;
  satisfaction: SatisfactionReport;
  ope: OpeReport;
  /** Decisions per time bucket (hour or day of event time) and action. */
  decisionsOverTime: { bucket: string; actionId: string; decisions: number }[];
  /** Gate and experiment reason codes (prefix only) per time bucket: why actions were held back. */
  reasonsOverTime: { bucket: string; reason: string; decisions: number }[];
  bucket: 'hour' | 'day';
  /** Distributions over customers with orders, as of the last event (the customer_value view). */
  clv: {
    customers: number;
    /** `toMinor` null: the open tail bin above the 95th percentile. */
    predicted: { fromMinor: number; toMinor: number | null; customers: number }[];
    pAlive: { from: number; to: number; customers: number }[];
  };
}

export async function htmlReportData(store: ClickHouse): Promise<HtmlReportData> {
  const db = store.database;
  const [attribution, satisfaction, ope] = [await attributionReport(store), await satisfactionReport(store), await opeReport(store)];
  const bucket = attribution.coverage.spanHours <= 72 ? 'hour' : 'day';
  // The bucket width travels as a query parameter: SQL text interpolates nothing but identifiers.
  const bucketSeconds = bucket === 'hour' ? 3_600 : 86_400;
  const decisionsOverTime = await store.rows<Record<string, unknown>>(
    `SELECT formatDateTime(toStartOfInterval(event_time, toIntervalSecond({bucketSeconds:UInt32})), '%Y-%m-%d %H:00') AS bucket, action_id, count() AS n
     FROM ${qualified(db, 'decisions')} GROUP BY bucket, action_id ORDER BY bucket, action_id`,
    { bucketSeconds },
  );
  // Reason codes that say why something was not sent or was deferred (the rest describe the decision).
  const reasonsOverTime = await store.rows<Record<string, unknown>>(
    `SELECT formatDateTime(toStartOfInterval(event_time, toIntervalSecond({bucketSeconds:UInt32})), '%Y-%m-%d %H:00') AS bucket,
            splitByChar(':', reason)[1] AS reason_kind, count() AS n
     FROM ${qualified(db, 'decisions')} ARRAY JOIN reason_codes AS reason
     WHERE (startsWith(reason, 'GATE_') AND reason != 'GATE_FREQUENCY_PASSED') OR startsWith(reason, 'INELIGIBLE') OR startsWith(reason, 'EXPERIMENT_DEFERRED')
     GROUP BY bucket, reason_kind ORDER BY bucket, reason_kind`,
    { bucketSeconds },
  );
  const asOf = attribution.coverage.lastEventTime ? Date.parse(attribution.coverage.lastEventTime) : Date.now();
  const view = `${qualified(db, 'customer_value')}(as_of = fromUnixTimestamp64Milli({asOf:Int64}, 'UTC'), window_days = 365, horizon_days = 365)`;
  // Equal-width bins up to the 95th percentile (one long tail bin above), so a few whales do not flatten the rest.
  const [edges] = await store.rows<Record<string, unknown>>(`SELECT count() AS customers, quantile(0.95)(predicted_minor) AS p95 FROM ${view}`, { asOf });
  const customers = num(edges?.customers);
  const width = Math.max(1, Math.ceil(num(edges?.p95) / 10));
  const predicted = await store.rows<Record<string, unknown>>(
    `SELECT least(intDiv(toInt64(predicted_minor), {width:Int64}), 10) AS bin, count() AS n FROM ${view} GROUP BY bin ORDER BY bin`,
    { asOf, width },
  );
  const pAlive = await store.rows<Record<string, unknown>>(
    `SELECT least(toUInt8(floor(p_alive * 10)), 9) AS bin, count() AS n FROM ${view} GROUP BY bin ORDER BY bin`,
    {
      asOf,
    },
  );
  return {
    generatedAt: new Date().toISOString(),
    attribution,
    satisfaction,
    ope,
    bucket,
    decisionsOverTime: decisionsOverTime.map((r) => ({ bucket: String(r.bucket), actionId: String(r.action_id), decisions: num(r.n) })),
    reasonsOverTime: reasonsOverTime.map((r) => ({ bucket: String(r.bucket), reason: String(r.reason_kind), decisions: num(r.n) })),
    clv: {
      customers,
      predicted: predicted.map((r) => {
        const bin = num(r.bin);
        return { fromMinor: bin * width, toMinor: bin === 10 ? null : (bin + 1) * width, customers: num(r.n) };
      }),
      pAlive: pAlive.map((r) => ({ from: num(r.bin) / 10, to: (num(r.bin) + 1) / 10, customers: num(r.n) })),
    },
  };
}
