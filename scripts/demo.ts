/**
 * The main job end to end: gateway, decision engine and analytics sink as real processes on the
 * local stack; simulated customers send events through the gateway and answer the decisions
 * addressed to them; live counts while it runs; then a sample of decisions with their reasons and
 * the attribution report.
 *
 *   npm run demo -- [--seconds 60] [--sim-days 14] [--rate 1500] [--customers N] [--seed N] [--keep]
 *
 * Simulated time is compressed: the run's clock covers --sim-days days in --seconds wall seconds,
 * so every report window (72 h conversions, the 48 h survey deferral, 7 d survey answers) closes.
 * --keep leaves the services running and prints commands that work against them.
 * Each run has its own topic prefix and ClickHouse folder (printed at the end), so runs never mix.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { codecFromConfig, type Decision, kafkaFromConfig, loadConfig, silentLogger, topicNames } from '../services/core/src';
import { describeDecision } from './lib/decision-view';
import { writeCandidatePolicy, writeExperimentPolicy } from './lib/experiment-policy';
import { repoRoot as root, type ServiceName, type ServiceProcess, scrape, startService, stopService, total, totalsBy, waitReady } from './lib/services';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    'sim-days': { type: 'string', default: '14' },
    rate: { type: 'string', default: '1500' },
    customers: { type: 'string' },
    seed: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const simDays = Number(values['sim-days']);
const rate = Number(values.rate);
for (const [name, v] of [
  ['seconds', seconds],
  ['sim-days', simDays],
  ['rate', rate],
] as const) {
  if (!(v > 0)) throw new Error(`--${name} must be a positive number`);
}
// The world makes about 9 events per customer per simulated day (simulator --help): size the
// population so the run's events fit the rate over the wall-clock seconds.
const customers = values.customers ?? String(Math.max(50, Math.round((rate * seconds) / (9 * simDays))));
// Simulated history ends about now: records are then inside the topics' retention (Kafka deletes
// segments by record timestamp) and the gateway's event-time bounds.
const simEpoch = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - simDays * 86_400_000).toISOString();
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
const run = `demo-${stamp}`;
const seed = values.seed ?? String(Number(stamp.slice(-6)));
const dataDir = join(root, '.stack', 'data', run);
const logDir = join(root, '.stack', 'logs');
mkdirSync(dataDir, { recursive: true });
mkdirSync(logDir, { recursive: true });

const policyFile = process.env.POLICY_FILE ?? writeExperimentPolicy(dataDir, 'demo');
const env: NodeJS.ProcessEnv = {
  ...process.env,
  NEXTACT_TOPIC_PREFIX: `${run}.`,
  CHDB_PATH: join(dataDir, 'chdb'),
  ENGINE_STATE_DIR: join(dataDir, 'engine'),
  // The shipped policy with experiments sized for a one-minute run (scripts/lib/experiment-policy.ts):
  // with the shipped sizes a short run delivers too few surveys after complaints for the timing experiment.
  POLICY_FILE: policyFile,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
};
const config = loadConfig(env);
const ports = { gateway: config.gatewayPort, engine: config.enginePort, analytics: config.analyticsPort };
const children: ServiceProcess[] = [];

function start(service: ServiceName, port: number, args: string[] = []): ServiceProcess {
  const svc = startService(service, { env, port, args, logFile: join(logDir, `${run}-${service}.log`), run });
  children.push(svc);
  void svc.exited.then((code) => {
    if (!stopping && !kept && service !== 'simulator') {
      console.error(`\n${service} exited (${code ?? svc.exit?.signal}); see .stack/logs/${run}-${service}.log`);
      void shutdown(1);
    }
  });
  return svc;
}

let stopping = false;
let kept = false;
async function shutdown(code: number): Promise<never> {
  stopping = true;
  await Promise.all(children.map((c) => stopService(c)));
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130));

async function status(): Promise<{ line: string; engineLag: number; sinkLag: number }> {
  const [g, e, a] = await Promise.all([scrape(ports.gateway), scrape(ports.engine), scrape(ports.analytics)]);
  const actions = [...totalsBy(e, 'nextact_engine_decisions_total', 'action')]
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const line =
    `accepted ${total(g, 'nextact_gateway_events_accepted_total')} | ` +
    `engine events ${total(e, 'nextact_engine_events_total')}, decisions ${total(e, 'nextact_engine_decisions_total')} (${actions || '-'}) | ` +
    `sink rows ${total(a, 'nextact_sink_rows_total')}`;
  return { line, engineLag: total(e, 'nextact_engine_consumer_lag'), sinkLag: total(a, 'nextact_sink_consumer_lag') };
}

async function sampleDecisions(): Promise<Decision[]> {
  const kafka = kafkaFromConfig(config, silentLogger, 'demo');
  const codec = codecFromConfig(config, silentLogger);
  const topic = topicNames(config.topicPrefix).decisions;
  const all: Decision[] = [];
  await kafka.readPartitions(topic, [{ partition: 0, from: '0' }], async (records) => {
    for (const r of records) all.push((await codec.decode(r.value)).value as Decision);
  });
  const pick = (f: (d: Decision) => boolean, n: number) => all.filter(f).slice(-n);
  const sample = [
    ...pick((d) => d.deliver, 4),
    ...pick((d) => d.actionId === 'do_nothing', 1),
    ...pick((d) => d.experimentArm === 'CONTROL' && d.actionId !== 'do_nothing', 1),
    ...pick((d) => d.reasonCodes.some((c) => c.includes('FAILED') || c.includes('QUIET') || c.includes('CAP')), 1),
  ];
  return [...new Map(sample.map((d) => [d.decisionId, d])).values()];
}

/**
 * Off-policy evaluation done right: a candidate policy file asked in each logged context (replay
 * folds the log through the logged policy and asks the candidate on the same journey and event).
 */
async function evaluateCandidate(analytics: ServiceProcess): Promise<void> {
  const candidate = writeCandidatePolicy(policyFile, dataDir);
  console.log(`\n== off-policy evaluation of a candidate (${candidate}: the run's policy with softmax temperature 1.5)`);
  console.log(`   npm run -s replay -- evaluate --policy ${candidate}`);
  // Embedded ClickHouse admits one process per folder: the sink stops first (it has drained).
  stopping = true;
  await stopService(analytics);
  await new Promise<void>((resolveEvaluate, reject) => {
    const replay = spawn(process.execPath, ['--import', 'tsx', join(root, 'services/replay/src/main.ts'), 'evaluate', '--policy', candidate], {
      cwd: root,
      env,
      stdio: 'inherit',
    });
    replay.once('exit', (code) => (code === 0 ? resolveEvaluate() : reject(new Error(`replay evaluate exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  console.log(`== run ${run}: topics ${config.topicPrefix}*, ClickHouse ${env.CHDB_PATH}, logs .stack/logs/${run}-*.log`);
  const services = [start('engine', ports.engine), start('analytics', ports.analytics), start('gateway', ports.gateway)];
  await Promise.all(services.map((svc) => waitReady(svc, 180_000)));
  console.log(
    `== gateway :${ports.gateway}, engine :${ports.engine}, analytics :${ports.analytics} ready; simulating ${customers} customers over ${simDays} simulated days (from ${simEpoch}) in ${seconds}s (at most ${rate} events/s, seed ${seed})`,
  );

  const sim = start('simulator', config.simulatorPort, [
    '--seed',
    seed,
    '--customers',
    customers,
    '--rate',
    String(rate),
    '--duration',
    String(seconds),
    '--sim-days',
    String(simDays),
    '--epoch',
    simEpoch,
    '--sink',
    'gateway',
    '--gateway-url',
    `http://127.0.0.1:${ports.gateway}`,
    '--respond',
    '--no-progress',
  ]);
  const ticker = setInterval(async () => console.log(`   ${(await status()).line}`), 3_000);
  const simCode = await sim.exited;
  clearInterval(ticker);
  if (simCode !== 0) throw new Error(`simulator exited with ${simCode}; see .stack/logs/${run}-simulator.log`);
  await stopService(sim); // finished cleanly: unregisters it from Prometheus

  // Let the engine and the sink drain what the simulator sent: the report covers only what the
  // sink stored (a loaded machine needs minutes for the decisions' rows).
  const drainDeadline = Date.now() + 240_000;
  let s = await status();
  let lastNote = 0;
  while ((s.engineLag > 0 || s.sinkLag > 0) && Date.now() < drainDeadline) {
    if (Date.now() - lastNote >= 10_000) {
      console.log(`   draining: engine lag ${s.engineLag}, sink lag ${s.sinkLag} records`);
      lastNote = Date.now();
    }
    await new Promise((r) => setTimeout(r, 1_000));
    s = await status();
  }
  if (s.engineLag > 0 || s.sinkLag > 0)
    console.log(`   still behind after 240 s (engine lag ${s.engineLag}, sink lag ${s.sinkLag}): the report covers what is stored so far`);
  await new Promise((r) => setTimeout(r, 2_500)); // one more sink flush interval
  console.log(`== final: ${(await status()).line}`);

  console.log('\n== sample decisions (partition 0; every one with `npm run -s decisions -- tail`)');
  for (const d of await sampleDecisions()) console.log(`${describeDecision(d)}\n`);

  console.log('\n== attribution report');
  await new Promise<void>((resolveReport, reject) => {
    const report = spawn(process.execPath, ['--import', 'tsx', join(root, 'services/analytics/src/report.ts')], { cwd: root, env, stdio: 'inherit' });
    report.once('exit', (code) => (code === 0 ? resolveReport() : reject(new Error(`report exited with ${code}`))));
  });
  if (!values.keep) await evaluateCandidate(services[1]!);
  const prometheus = process.env.PROMETHEUS_URL ?? 'http://127.0.0.1:9090';
  console.log(`\n== done. Data of this run: topics ${config.topicPrefix}*, ClickHouse folder ${env.CHDB_PATH}`);
  if (!values.keep) {
    console.log(`   report again (store directly): CHDB_PATH=${env.CHDB_PATH} npm run -s report`);
    console.log(`   decisions: npm run -s decisions -- tail --prefix ${config.topicPrefix} --limit 5`);
    console.log(`   keep the services running next time: npm run demo -- --keep`);
    return;
  }
  kept = true;
  const live = children.filter((c) => !c.exit);
  const pids = live.map((c) => c.proc.pid).filter((p): p is number => p !== undefined);
  const targets = live.map((c) => c.targetsFile).filter((f): f is string => f !== null);
  const stop = `kill -TERM ${pids.map((p) => `-${p}`).join(' ')}${targets.length ? ` && rm -f ${targets.join(' ')}` : ''}`;
  writeFileSync(
    join(dataDir, 'stop.sh'),
    `#!/bin/sh\n# Stops the services of ${run} (one process group each) and unregisters them from Prometheus.\n${stop}\n`,
  );
  const sample = (await sampleDecisions())[0]?.customerId ?? 'c-1';
  const q = (v: string) => `'${v}'`;
  console.log(`== kept running (gateway :${ports.gateway}, engine :${ports.engine}, analytics :${ports.analytics}); try:`);
  console.log(`   curl -s -X POST http://127.0.0.1:${ports.gateway}/v1/events -H 'content-type: application/json' \\
     -d '{"type":"browse","eventId":"try-${stamp}","customerId":"${sample}","eventTime":${Date.now()},"source":"web","kind":"ADD_TO_CART","productId":"sku-1","category":"shoes"}'`);
  console.log(`   npm run -s decisions -- tail --prefix ${config.topicPrefix} --customer ${sample} --follow`);
  console.log(`   NEXTACT_TOPIC_PREFIX=${config.topicPrefix} npm run -s report              # asks the running analytics service`);
  console.log(`   npm run -s report -- --json attribution | jq .reports.attribution.uplift`);
  console.log(`   npm run -s report -- --html /tmp/${run}.html                  # one self-contained page`);
  console.log(`   curl -s http://127.0.0.1:${ports.analytics}/report > /tmp/${run}-served.html   # the same page, served`);
  console.log(`   tail -f .stack/logs/${run}-engine.log`);
  console.log(`   ${prometheus}/targets    ${prometheus}/alerts    (queries: docs/observability.md)`);
  console.log(`   stop: sh ${q(join(dataDir, 'stop.sh'))}`);
}

main()
  .then(() => {
    if (!kept) return shutdown(0);
    // Leave the detached service groups running; only this process ends.
    for (const c of children) c.proc.unref();
    process.exit(0);
  })
  .catch((err) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    return shutdown(1);
  });
