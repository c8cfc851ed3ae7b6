/**
 * Helpers shared by the ops tests: the metric-name contract between the services and the
 * dashboards/rules, a small PromQL scanner (metric names used by an expression), the list of
 * dashboard queries, and Grafana variable substitution. Pure functions; no I/O except reading
 * the repo's dashboard files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';

export const repoRoot = join(__dirname, '..', '..');
export const dashboardsDir = join(repoRoot, 'infra', 'grafana', 'dashboards');

/** Series the NextAct services expose (names fixed by the service owners; dashboards depend on them). */
export const contractMetrics = {
  gateway: {
    nextact_gateway_events_accepted_total: 'counter',
    nextact_gateway_events_rejected_total: 'counter',
    nextact_gateway_produce_duration_seconds: 'histogram',
    nextact_gateway_batch_size: 'histogram',
    nextact_gateway_in_flight_events: 'gauge',
    nextact_http_requests_total: 'counter',
  },
  engine: {
    nextact_engine_events_total: 'counter',
    nextact_engine_decisions_total: 'counter',
    nextact_engine_gate_results_total: 'counter',
    nextact_engine_decision_latency_seconds: 'histogram',
    nextact_engine_consumer_lag: 'gauge',
    nextact_engine_state_journeys: 'gauge',
    nextact_engine_restore_duration_seconds: 'histogram',
    nextact_engine_restored_records_total: 'counter',
    nextact_engine_transactions_total: 'counter',
    nextact_dead_letters_total: 'counter',
    nextact_engine_owned_partitions: 'gauge',
    nextact_engine_global_table_records_total: 'counter',
    nextact_engine_global_table_read_errors_total: 'counter',
    nextact_engine_global_table_lag: 'gauge',
    nextact_engine_global_table_last_read_timestamp_seconds: 'gauge',
  },
  analytics: {
    nextact_sink_rows_total: 'counter',
    nextact_sink_batch_rows: 'histogram',
    nextact_sink_insert_duration_seconds: 'histogram',
    nextact_sink_insert_errors_total: 'counter',
    nextact_sink_consumer_lag: 'gauge',
    nextact_dead_letters_total: 'counter',
  },
  simulator: {
    nextact_simulator_events_total: 'counter',
    nextact_simulator_outcomes_total: 'counter',
  },
} as const;

export type ServiceName = keyof typeof contractMetrics;

/**
 * Broker series from the JMX exporter agent (job "kafka"; names set by
 * scripts/stack/kafka/jmx-exporter.yml) that dashboards may use.
 */
export const brokerSeries = [
  'kafka_server_brokertopicmetrics_messagesin_total',
  'kafka_server_brokertopicmetrics_bytesin_total',
  'kafka_server_brokertopicmetrics_bytesout_total',
  'kafka_network_requestmetrics_totaltimems',
  'kafka_server_replicamanager_underreplicatedpartitions',
  'kafka_controller_kafkacontroller_offlinepartitionscount',
  'kafka_server_request_handler_avg_idle_ratio',
] as const;

/** Series names (as stored by Prometheus) for a metric family: histograms become _bucket/_sum/_count. */
function seriesNames(name: string, type: string): string[] {
  return type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
}

/** Which service exposes each stored series name of the contract. */
export function contractSeries(): Map<string, ServiceName> {
  const out = new Map<string, ServiceName>();
  for (const [service, metrics] of Object.entries(contractMetrics) as [ServiceName, Record<string, string>][]) {
    for (const [name, type] of Object.entries(metrics)) for (const s of seriesNames(name, type)) out.set(s, service);
  }
  return out;
}

/** prom-client's default process/Node.js series, as this prom-client version names them. */
export async function defaultProcessSeries(): Promise<Set<string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const out = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) for (const s of seriesNames(m.name, String(m.type))) out.add(s);
  registry.clear();
  return out;
}

const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'atan2']);

/**
 * Metric names referenced by a PromQL expression: identifiers that are not functions, keywords,
 * label names in matchers or grouping clauses, or durations. Also `{__name__="x"}` selectors.
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/__name__\s*=\s*"([^"]+)"/g)) names.add(m[1]!);
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""') // string literals
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range and subquery selectors
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\boffset\s+-?\S+/g, ' '); // offset durations
  for (const m of stripped.matchAll(/(?<![\w:.$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, ident, call] = m;
    if (call || keywords.has(ident!.toLowerCase())) continue;
    names.add(ident!);
  }
  return [...names];
}

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  panelType: string;
  refId: string;
  expr: string;
}

export interface Dashboard {
  file: string;
  json: {
    uid?: string;
    title?: string;
    panels?: Panel[];
    templating?: { list?: { name: string; type: string; query?: unknown; datasource?: { uid?: string } }[] };
  };
}

export interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string } | null;
  targets?: { refId?: string; expr?: string; datasource?: { uid?: string } }[];
  panels?: Panel[];
}

export function loadDashboards(): Dashboard[] {
  return readdirSync(dashboardsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Dashboard['json'] }));
}

/** Every panel, rows' nested panels included; row panels themselves are left out. */
export function allPanels(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  const visit = (panels: Panel[] | undefined) => {
    for (const p of panels ?? []) {
      if (p.type === 'row') visit(p.panels);
      else out.push(p);
    }
  };
  visit(d.json.panels);
  return out;
}

export function dashboardQueries(dashboards: Dashboard[] = loadDashboards()): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const d of dashboards) {
    for (const p of allPanels(d)) {
      for (const t of p.targets ?? []) {
        out.push({ dashboard: d.file, panel: p.title ?? `#${p.id}`, panelType: p.type, refId: t.refId ?? '?', expr: t.expr ?? '' });
      }
    }
  }
  return out;
}

/**
 * Grafana's query-time substitution, enough for these dashboards: built-in interval/range
 * variables and template variables (a value of `.*` is what "All" expands to with allValue `.*`).
 */
export function substitute(expr: string, vars: Record<string, string>, builtins = { rateInterval: '1m', interval: '15s', range: '5m' }): string {
  let out = expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, builtins.rateInterval)
    .replace(/\$__interval_ms/g, String(parseDurationMs(builtins.interval)))
    .replace(/\$__interval|\$\{__interval\}/g, builtins.interval)
    .replace(/\$__range_s/g, String(Math.round(parseDurationMs(builtins.range) / 1000)))
    .replace(/\$__range|\$\{__range\}/g, builtins.range);
  out = out.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    return name in vars ? vars[name]! : whole;
  });
  return out;
}

function parseDurationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** Template variable names a dashboard defines. */
export function templateVariables(d: Dashboard): string[] {
  return (d.json.templating?.list ?? []).map((v) => v.name);
}
