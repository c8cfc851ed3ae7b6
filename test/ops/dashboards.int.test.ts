/**
 * Proof that the dashboards and alerts work against a real run: gateway, engine, analytics and
 * simulator run as child processes (`npx tsx services/<svc>/src/main.ts`) on free ports with a
 * unique topic prefix; the stack's Prometheus discovers them through a file_sd targets file.
 *
 * 1. Every panel query of every dashboard (Grafana variables substituted, instance variables
 *    pinned to this run's processes) must return data.
 * 2. Alerts, induced for real: the engine is throttled with SIGSTOP/SIGCONT pulses while the
 *    simulator keeps producing -> decision-latency alert; a poison record -> dead-letter alert; a
 *    fast second producer straight into Kafka -> consumer-lag alert
 *    (lag measured from the broker), which must resolve once the engine runs freely and catches up.
 *
 * Alerts are evaluated by Prometheus itself: the test writes a copy of rules/alerts.yml with
 * `for:` shortened to 10s and a `test_run` label into the rule directory the running Prometheus
 * loads (a dotfile, removed at the end) and reloads it (POST /-/reload). If that is impossible
 * (no lifecycle API, rule dir not writable), it evaluates the alert expressions through the query
 * API and requires them to hold on polls 10 s apart, which is what `for: 10s` would do.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { createLogger, kafkaFromConfig, loadConfig, topicNames } from '@nextact/core';
import { parse, stringify } from 'yaml';
import {
  freePort,
  logTail,
  type ServiceName,
  type ServiceProcess,
  signalService,
  startService as startServiceProcess,
  stopService,
  waitReady,
} from '../../scripts/lib/services';
import { contractSeries, type DashboardQuery, dashboardQueries, metricNames, repoRoot, substitute } from './promql';

jest.setTimeout(240_000);

const PROM = (process.env.PROMETHEUS_URL ?? 'http://127.0.0.1:9090').replace(/\/+$/, '');
const runId = randomUUID().slice(0, 8);
const prefix = `test-ops-${runId}.`;
const SIM_RATE = 300; // events/s: well within the engine's pace, well above a throttled engine's
const PARTITIONS = 3;
const BURST_RATE = 20_000; // events/s straight into Kafka (a cap: the simulator's own pace may be lower): above what one engine applies on a small box
const BURST_EVENTS = 600_000; // at most 30 s of burst; it is stopped as soon as the lag alert fires

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Thrown inside a waitFor probe to stop waiting at once (e.g. the process died). */
class Fatal extends Error {}

async function waitFor<T>(what: string, timeoutMs: number, intervalMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof Fatal) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await sleep(intervalMs);
  }
}

// ------------------------------------------------------------------ Prometheus API

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function prom<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${PROM}${path}`, init);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
  return body.data;
}

async function query(expr: string): Promise<Sample[]> {
  const data = await prom<{ resultType: string; result: Sample[] }>('/api/v1/query', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }).toString(),
  });
  return data.result;
}

async function scalar(expr: string): Promise<number | undefined> {
  const r = await query(expr);
  return r.length > 0 ? Number(r[0]!.value[1]) : undefined;
}

interface PromAlert {
  labels: Record<string, string>;
  state: string;
  activeAt?: string;
}

// ------------------------------------------------------------------ child services

/** A service child plus its Prometheus instance label. */
type Service = ServiceProcess & { instance: string };

function startService(name: ServiceName, port: number, env: NodeJS.ProcessEnv, logDir: string, args: string[] = []): Service {
  return Object.assign(startServiceProcess(name, { env, port, args, logFile: join(logDir, `${name}-${port}.log`) }), { instance: `127.0.0.1:${port}` });
}

// ------------------------------------------------------------------ Prometheus config discovery

interface PromFiles {
  targetsDir: string;
  ruleFile?: string;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
}

/** Where the running Prometheus reads file_sd targets and rule files, from its own config. */
async function discoverPromFiles(): Promise<PromFiles> {
  const flags = await prom<Record<string, string>>('/api/v1/status/flags');
  const configDir = dirname(flags['config.file'] ?? join(repoRoot, '.stack/prometheus/prometheus.yml'));
  const config = parse((await prom<{ yaml: string }>('/api/v1/status/config')).yaml) as {
    rule_files?: string[];
    scrape_configs?: { job_name: string; file_sd_configs?: { files: string[] }[] }[];
  };
  const abs = (p: string) => (isAbsolute(p) ? p : join(configDir, p));
  const sdGlob = config.scrape_configs?.find((j) => j.job_name === 'nextact')?.file_sd_configs?.[0]?.files[0];
  const targetsDir = sdGlob ? dirname(abs(sdGlob)) : (process.env.PROMETHEUS_TARGETS_DIR ?? join(repoRoot, '.stack/prometheus/targets'));
  let ruleFile: string | undefined;
  for (const glob of config.rule_files ?? []) {
    const dir = dirname(abs(glob));
    const name = `.test-ops-${runId}.yml`;
    if (existsSync(dir) && globToRegExp(basename(glob)).test(name)) {
      ruleFile = join(dir, name);
      break;
    }
  }
  return { targetsDir, ruleFile };
}

/** alerts.yml with `for:` capped at 10s and a test_run label: what Prometheus evaluates during the test. */
function testAlertRules(): string {
  const src = parse(readFileSync(join(repoRoot, 'infra/prometheus/rules/alerts.yml'), 'utf8')) as {
    groups: { name: string; rules: { alert: string; expr: string; for?: string; labels?: Record<string, string> }[] }[];
  };
  const rules = src.groups
    .flatMap((g) => g.rules)
    .map((r) => ({ ...r, for: r.for === '0m' || r.for === '0s' ? '0s' : '10s', labels: { ...r.labels, test_run: runId } }))
    .map((r) => (r.alert === 'NextActDecisionLatencyHigh' ? { ...r, expr: latencyTestExpr(r) } : r));
  return stringify({ groups: [{ name: `nextact-alerts-test-${runId}`, rules }] });
}

/**
 * The latency rule's copy for the test: a 30 s window instead of 2 m, so recovery shows within the
 * test, and a 5 s objective instead of 250 ms, because on a shared 2-core CI machine the normal p99
 * is 0.25-1 s while a throttled engine's (stopped 2.8 s of every 3 s) is ~3 s. The rule's shape
 * (quantile, aggregation, labels) is the production one; only window and threshold differ, and the
 * test asserts both edges.
 */
const LATENCY_TEST_OBJECTIVE_S = 1.5;
function latencyTestExpr(rule: { expr: string }): string {
  const expr = rule.expr.replace('[2m]', '[30s]').replace(/>\s*0\.25\s*$/, `> ${LATENCY_TEST_OBJECTIVE_S}`);
  if (expr === rule.expr || !expr.includes('[30s]') || !expr.includes(`> ${LATENCY_TEST_OBJECTIVE_S}`)) {
    throw new Error(`NextActDecisionLatencyHigh changed shape; update the ops test's copy: ${rule.expr}`);
  }
  return expr;
}

async function reloadPrometheus(): Promise<boolean> {
  const res = await fetch(`${PROM}/-/reload`, { method: 'POST' }).catch(() => undefined);
  return res?.ok === true;
}

/** Remove rule files left by crashed runs (older than 10 minutes). */
function removeStaleTestRules(dir: string): void {
  for (const f of readdirSync(dir)) {
    if (!/^\.test-ops-[0-9a-f]{8}\.yml$/.test(f)) continue;
    const p = join(dir, f);
    if (Date.now() - statSync(p).mtimeMs > 10 * 60_000) rmSync(p, { force: true });
  }
}

// ------------------------------------------------------------------ the run

describe('ops: dashboards and alerts against a real pipeline', () => {
  const tmp = mkdtempSync(join(tmpdir(), `nextact-ops-${runId}-`));
  const services: Service[] = [];
  const byName = (n: Service['name']) => services.find((s) => s.name === n)!;
  let files: PromFiles;
  let targetsFile: string;
  let rulesWritten = false;
  let vars: Record<string, string>;
  let mineRegex: string;
  /** The broker's exporter instance when Prometheus scrapes it; null for a broker started without the agent. */
  let brokerInstance: string | null = null;
  let childEnv: NodeJS.ProcessEnv;
  const figures: Record<string, unknown> = { prefix };

  beforeAll(async () => {
    await prom('/api/v1/status/buildinfo').catch((err) => {
      throw new Error(`Prometheus is not reachable at ${PROM} (bash scripts/stack.sh up starts it): ${err}`);
    });
    files = await discoverPromFiles();
    mkdirSync(files.targetsDir, { recursive: true });

    const [gw, en, an, sim] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NEXTACT_TOPIC_PREFIX: prefix,
      NEXTACT_PARTITIONS: String(PARTITIONS),
      GATEWAY_PORT: String(gw),
      ENGINE_PORT: String(en),
      ANALYTICS_PORT: String(an),
      SIMULATOR_PORT: String(sim),
      HTTP_HOST: '127.0.0.1',
      CHDB_PATH: join(tmp, 'chdb'),
      ENGINE_STATE_DIR: join(tmp, 'engine'),
      ENGINE_INSTANCE_ID: `ops-${runId}`,
      LOG_LEVEL: 'warn',
    };
    delete env.CLICKHOUSE_URL; // embedded chdb in a temp folder
    childEnv = env;
    // The gateway provisions topics and schemas first: concurrent first-time provisioning of the
    // same subjects by several services races in the registry (compatibility config), and the
    // engine does not retry it.
    services.push(startService('gateway', gw!, env, tmp));
    await waitReady(services[0]!, 90_000);
    services.push(startService('engine', en!, env, tmp), startService('analytics', an!, env, tmp));

    // Register the targets the same way a service on a non-default port does (see prometheus.local.yml).
    targetsFile = join(files.targetsDir, `test-ops-${runId}.json`);
    const target = (port: number, service: string) => ({ targets: [`127.0.0.1:${port}`], labels: { service } });
    writeFileSync(targetsFile, JSON.stringify([target(gw!, 'gateway'), target(en!, 'engine'), target(an!, 'analytics'), target(sim!, 'simulator')], null, 2));

    await Promise.all(services.map((s) => waitReady(s, 90_000)));

    // One undecodable record: the engine must dead-letter it (reason decode-failed).
    const config = loadConfig(env);
    const kafka = kafkaFromConfig(config, createLogger({ level: 'error' }), 'ops-test');
    const producer = await kafka.producer();
    try {
      await producer.send([{ topic: topicNames(prefix).customerEvents, key: `ops-poison-${runId}`, value: Buffer.from('not a confluent-framed avro record') }]);
    } finally {
      await producer.close();
    }

    const simulator = startService('simulator', sim!, env, tmp, [
      '--sink',
      'gateway',
      '--gateway-url',
      `http://127.0.0.1:${gw}`,
      '--respond',
      '--responder-group',
      `${prefix}responder`,
      '--rate',
      String(SIM_RATE),
      '--in-flight',
      '8', // HTTP requests at once; one at a time caps the rate at one round trip per chunk
      '--customers',
      '500',
      '--seed',
      '7',
      '--duration',
      '600',
      '--no-progress',
    ]);
    services.push(simulator);
    await waitReady(simulator, 60_000);

    // The shared stack's broker may predate the JMX exporter agent (stack.sh adds it at start).
    brokerInstance = (await query('up{job="kafka"} == 1'))[0]?.metric.instance ?? null;
    figures.brokerPanels = brokerInstance
      ? `checked (${brokerInstance})`
      : 'not checked: the broker runs without the JMX exporter agent (restart it through scripts/stack.sh)';
    mineRegex = `127.0.0.1:(${[gw, en, an, sim, ...(brokerInstance ? [brokerInstance.split(':')[1]] : [])].join('|')})`;
    vars = {
      gateway: `127.0.0.1:${gw}`,
      engine: `127.0.0.1:${en}`,
      analytics: `127.0.0.1:${an}`,
      simulator: `127.0.0.1:${sim}`,
      service: '.*',
      instance: mineRegex,
    };
  }, 200_000);

  afterAll(async () => {
    // Simulator first so nothing new is produced while the rest drain.
    await Promise.all(services.filter((s) => s.name === 'simulator').map((svc) => stopService(svc, 15_000)));
    await Promise.all(services.filter((s) => s.name !== 'simulator').map((svc) => stopService(svc, 15_000)));
    if (targetsFile) rmSync(targetsFile, { force: true });
    if (rulesWritten && files.ruleFile) {
      rmSync(files.ruleFile, { force: true });
      await reloadPrometheus();
    }
    try {
      const kafka = kafkaFromConfig(loadConfig({ ...process.env, NEXTACT_TOPIC_PREFIX: prefix }), createLogger({ level: 'error' }), 'ops-test');
      const admin = await kafka.admin();
      try {
        await admin.deleteTopics((await admin.listTopics()).filter((t) => t.startsWith(prefix)));
      } finally {
        await admin.close();
      }
    } catch (err) {
      console.warn(`ops test: topic cleanup failed: ${err}`);
    }
    console.log(`ops test figures: ${JSON.stringify(figures, null, 2)}`);
    try {
      rmSync(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
    } catch (err) {
      console.warn(`ops test: could not remove ${tmp}: ${err}`);
    }
  }, 90_000);

  function failIfExited(): void {
    for (const s of services) if (s.exit && s.name !== 'simulator') throw new Fatal(`${s.name} exited early (${JSON.stringify(s.exit)}):\n${logTail(s)}`);
  }

  it('Prometheus scrapes all four services of this run', async () => {
    const up = await waitFor('all four targets up', 60_000, 2_000, async () => {
      failIfExited();
      const r = await query(`up{job="nextact", instance=~"${mineRegex}"} == 1`);
      return r.length === 4 ? r : undefined;
    });
    expect(up.map((s) => s.metric.service).sort()).toEqual(['analytics', 'engine', 'gateway', 'simulator']);
  });

  it('every panel query of every dashboard returns data from this run', async () => {
    const queries = dashboardQueries().filter((q) => brokerInstance || !q.expr.includes('job="kafka"'));
    expect(queries.length).toBeGreaterThan(40);
    const run = async () => {
      const empty: (DashboardQuery & { promql: string; error?: string })[] = [];
      let nan = 0;
      for (const q of queries) {
        const promql = substitute(q.expr, vars, { rateInterval: '1m', interval: '15s', range: '5m' });
        try {
          const r = await query(promql);
          if (r.length === 0) empty.push({ ...q, promql });
          else if (r.every((s) => s.value[1] === 'NaN')) nan++;
        } catch (err) {
          empty.push({ ...q, promql, error: String(err) });
        }
      }
      return { empty, nan };
    };
    // Rates need a few scrapes of traffic; poll until every panel has data (or give up and report).
    const started = Date.now();
    let last = await run();
    while (last.empty.length > 0 && Date.now() - started < 75_000) {
      failIfExited();
      await sleep(5_000);
      last = await run();
    }
    figures.dashboardQueries = queries.length;
    figures.dashboardQueriesAllNaN = last.nan;
    figures.secondsUntilAllPanelsHadData = Math.round((Date.now() - started) / 1000);
    expect(last.empty.map((e) => `${e.dashboard} / ${e.panel} / ${e.refId}: ${e.promql}${e.error ? ` (${e.error})` : ''}`)).toEqual([]);

    figures.decisionsPerSec = await scalar(`sum(rate(nextact_engine_decisions_total{instance="${vars.engine}"}[1m]))`);
    figures.eventsAcceptedPerSec = await scalar(`sum(rate(nextact_gateway_events_accepted_total{instance="${vars.gateway}"}[1m]))`);
    figures.sinkRowsPerSec = await scalar(`sum(rate(nextact_sink_rows_total{instance="${vars.analytics}"}[1m]))`);
    figures.decisionLatencyP50 = await scalar(
      `histogram_quantile(0.5, sum by (le) (rate(nextact_engine_decision_latency_seconds_bucket{instance="${vars.engine}"}[1m])))`,
    );
    figures.decisionLatencyP99 = await scalar(
      `histogram_quantile(0.99, sum by (le) (rate(nextact_engine_decision_latency_seconds_bucket{instance="${vars.engine}"}[1m])))`,
    );
    expect(figures.decisionsPerSec).toBeGreaterThan(0);
  });

  it('every contract metric the dashboards use is exposed by this run', async () => {
    const contract = contractSeries();
    const used = new Set(dashboardQueries().flatMap((q) => metricNames(q.expr)));
    const missing: string[] = [];
    for (const name of used) {
      const service = contract.get(name);
      if (!service) continue; // prom-client defaults and up: covered by the panel queries
      const r = await query(`count({__name__="${name}", instance="${vars[service]}"})`);
      if (r.length === 0) missing.push(`${name} (${service})`);
    }
    expect(missing).toEqual([]);
  });

  // ---- alerts: shared by the two tests below

  let viaPrometheus = false;
  const holdsSince = new Map<string, number>();

  async function loadTestRules(): Promise<void> {
    if (rulesWritten || !files.ruleFile) return;
    try {
      removeStaleTestRules(dirname(files.ruleFile));
      writeFileSync(files.ruleFile, testAlertRules());
      rulesWritten = true;
      if (await reloadPrometheus()) {
        await waitFor('test rule group loaded', 20_000, 1_000, async () => {
          const data = await prom<{ groups: { name: string }[] }>('/api/v1/rules');
          return data.groups.some((g) => g.name === `nextact-alerts-test-${runId}`) ? true : undefined;
        });
        viaPrometheus = true;
      }
    } catch (err) {
      console.warn(`ops test: cannot load test rules into Prometheus (${err}); evaluating alert expressions via the query API`);
    }
    figures.alertsEvaluatedBy = viaPrometheus ? 'prometheus rule engine (test copy, for: 10s)' : 'query API (holds on polls 10 s apart)';
  }

  /** Alerts firing for this run's engine instance (Prometheus' own, or the expressions held for 10 s). */
  async function firingForEngine(): Promise<Map<string, Record<string, string>>> {
    const engine = byName('engine');
    const out = new Map<string, Record<string, string>>();
    if (viaPrometheus) {
      const { alerts } = await prom<{ alerts: PromAlert[] }>('/api/v1/alerts');
      for (const a of alerts)
        if (a.labels.test_run === runId && a.labels.instance === engine.instance && a.state === 'firing') out.set(a.labels.alertname!, a.labels);
      return out;
    }
    const rules = (
      parse(readFileSync(join(repoRoot, 'infra/prometheus/rules/alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }
    ).groups.flatMap((g) => g.rules);
    for (const { alert, expr } of rules) {
      const hit = (await query(expr)).find((s) => s.metric.instance === engine.instance);
      if (!hit) holdsSince.delete(alert);
      else {
        if (!holdsSince.has(alert)) holdsSince.set(alert, Date.now());
        if (alert === 'NextActDeadLetters' || Date.now() - holdsSince.get(alert)! >= 10_000) out.set(alert, hit.metric);
      }
    }
    return out;
  }

  const engineLag = async () => (await scalar(`sum(nextact_engine_consumer_lag{instance="${byName('engine').instance}"})`)) ?? 0;

  /** The engine runs 200 ms out of every 3 s; a scrape that arrives while it is stopped waits at most 2.8 s of the 4 s timeout. */
  function throttle(engine: Service): () => Promise<void> {
    let on = true;
    const loop = (async () => {
      while (on) {
        signalService(engine, 'SIGSTOP');
        await sleep(2_800);
        signalService(engine, 'SIGCONT');
        await sleep(200);
      }
      signalService(engine, 'SIGCONT');
    })();
    return async () => {
      on = false;
      await loop;
    };
  }

  it('decision-latency and dead-letter alerts fire when the engine is throttled', async () => {
    const engine = byName('engine');
    await loadTestRules();
    const release = throttle(engine);
    const t0 = Date.now();
    let fired: Map<string, Record<string, string>>;
    try {
      fired = await waitFor('latency and dead-letter alerts firing for this engine', 75_000, 2_000, async () => {
        failIfExited();
        const f = await firingForEngine();
        figures.throttled = { seconds: Math.round((Date.now() - t0) / 1000), firing: [...f.keys()] };
        return f.has('NextActDecisionLatencyHigh') && f.has('NextActDeadLetters') ? f : undefined;
      });
    } finally {
      await release();
    }
    figures.secondsUntilLatencyAlertFired = Math.round((Date.now() - t0) / 1000);
    figures.decisionLatencyP99WhileThrottled = await scalar(
      `histogram_quantile(0.99, sum by (le) (rate(nextact_engine_decision_latency_seconds_bucket{instance="${engine.instance}"}[2m])))`,
    );
    expect(figures.decisionLatencyP99WhileThrottled).toBeGreaterThan(0.25);
    expect(fired.get('NextActDecisionLatencyHigh')).toMatchObject({ severity: 'warning', service: 'engine' });
    // The poison record produced at start: a new dead-letter reason fires at once (for: 0m).
    expect(fired.get('NextActDeadLetters')).toMatchObject({ severity: 'warning', service: 'engine', reason: 'decode-failed' });

    // Released: once the slow decisions leave the window, the latency alert resolves.
    const t1 = Date.now();
    await waitFor('decision-latency alert resolved', 120_000, 2_000, async () => {
      failIfExited();
      const state = await engineAlertState('NextActDecisionLatencyHigh');
      figures.latencyRecovery = { seconds: Math.round((Date.now() - t1) / 1000), state: state ?? 'inactive' };
      return state === undefined ? true : undefined;
    });
    figures.secondsUntilLatencyAlertResolved = Math.round((Date.now() - t1) / 1000);
    expect(await engineAlertState('NextActDecisionLatencyHigh')).toBeUndefined();
  });

  /** State of an alert for this run's engine: 'firing', 'pending' or undefined (inactive). */
  async function engineAlertState(name: string): Promise<string | undefined> {
    const engine = byName('engine');
    if (viaPrometheus) {
      const { alerts } = await prom<{ alerts: PromAlert[] }>('/api/v1/alerts');
      const mine = alerts.filter((a) => a.labels.test_run === runId && a.labels.instance === engine.instance && a.labels.alertname === name);
      return mine.find((a) => a.state === 'firing')?.state ?? mine[0]?.state;
    }
    if ((await firingForEngine()).has(name)) return 'firing';
    return holdsSince.has(name) ? 'pending' : undefined;
  }

  it('the consumer-lag alert fires on a backlog and resolves when the engine catches up', async () => {
    // Lag is the group's, read from the broker (log end minus committed offset). Backlog: a second
    // simulator writes straight into Kafka faster than the engine applies, until the alert fires.
    // No SIGSTOP: an engine stopped most of the time while busy with full fetches misses scrapes
    // (up=0), and a missing gauge neither fires nor proves recovery.
    const engine = byName('engine');
    await loadTestRules();
    // Start from a clean state: the throttling before may have left a backlog (and this alert) behind.
    await waitFor('no lag alert and a fresh lag sample below 1000 before the burst', 120_000, 2_000, async () => {
      failIfExited();
      const fresh = await scalar(`sum(nextact_engine_consumer_lag{instance="${engine.instance}"}) and on() (up{instance="${engine.instance}"} == 1)`);
      const state = await engineAlertState('NextActEngineConsumerLagGrowing');
      return fresh !== undefined && fresh < 1000 && state === undefined ? true : undefined;
    });
    const burst = startService('simulator', 0, childEnv, tmp, [
      '--sink',
      'kafka',
      '--rate',
      String(BURST_RATE),
      '--count',
      String(BURST_EVENTS),
      '--customers',
      '3000',
      '--seed',
      '11',
      '--ops-port',
      '0',
      '--no-progress',
    ]);
    services.push(burst);
    /** The engine's consumer can die while the process keeps answering /metrics; say so instead of timing out. */
    const engineWedged = () => {
      const log = readFileSync(engine.logFile, 'utf8');
      const m = /"msg":"Crash: [^"]*"|MESSAGE_TOO_LARGE|message larger than the max message size/.exec(log);
      if (m) throw new Fatal(`the engine's consumer crashed under the backlog (${m[0]}); it stops processing while its process stays up`);
    };
    const t0 = Date.now();
    let maxLag = 0;
    let fired: Record<string, string> | undefined;
    try {
      fired = await waitFor('consumer-lag alert firing for this engine', 75_000, 2_000, async () => {
        failIfExited();
        engineWedged();
        const lag = await engineLag();
        maxLag = Math.max(maxLag, lag);
        const f = await firingForEngine();
        figures.backlog = { seconds: Math.round((Date.now() - t0) / 1000), lag, maxLag, firing: [...f.keys()], burst: burst.exit ?? 'running' };
        return f.get('NextActEngineConsumerLagGrowing');
      });
    } finally {
      await stopService(burst);
    }
    figures.secondsUntilLagAlertFired = Math.round((Date.now() - t0) / 1000);
    figures.lagWhenAlertFired = await scalar(`sum(nextact_engine_consumer_lag{instance="${engine.instance}"})`);
    expect(maxLag).toBeGreaterThan(1000);
    expect(fired).toMatchObject({ severity: 'warning', service: 'engine' });

    // Free again: the engine works off the backlog, the alert resolves (neither firing nor pending)
    // and the lag falls below the threshold.
    const t1 = Date.now();
    let lag = maxLag;
    await waitFor('lag alert resolved and lag below 1000', 100_000, 2_000, async () => {
      failIfExited();
      engineWedged();
      // A fresh sample is required: a gauge gone stale (failed scrapes) would read as "no lag".
      const fresh = await scalar(`sum(nextact_engine_consumer_lag{instance="${engine.instance}"}) and on() (up{instance="${engine.instance}"} == 1)`);
      if (fresh === undefined) return undefined;
      lag = fresh;
      const state = await engineAlertState('NextActEngineConsumerLagGrowing');
      figures.recovery = { seconds: Math.round((Date.now() - t1) / 1000), lag, state: state ?? 'inactive' };
      return state === undefined && lag < 1000 ? true : undefined;
    });
    figures.secondsUntilLagAlertResolved = Math.round((Date.now() - t1) / 1000);
    figures.maxLag = maxLag;
    expect(lag).toBeLessThan(1000);
    expect(await engineAlertState('NextActEngineConsumerLagGrowing')).toBeUndefined();
  });
});
