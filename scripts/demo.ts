/**
 * The main job end to end: gateway, decision engine and analytics sink as real processes on the
 * local stack; simulated customers send events through the gateway and answer the decisions
 * addressed to them; live counts while it runs; then a sample of decisions with their reasons and
 * the attribution report.
 *
 *   npx tsx scripts/demo.ts [--seconds 45] [--rate 600] [--customers 2000] [--seed N]
 *
 * Each run has its own topic prefix and ClickHouse folder (printed at the end), so runs never mix.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { codecFromConfig, type Decision, kafkaFromConfig, loadConfig, silentLogger, topicNames } from '../services/core/src';
import { repoRoot as root, type ServiceName, type ServiceProcess, scrape, startService, stopService, total, totalsBy, waitReady } from './lib/services';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '45' },
    rate: { type: 'string', default: '600' },
    customers: { type: 'string', default: '2000' },
    seed: { type: 'string' },
  },
});
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
const run = `demo-${stamp}`;
const seed = values.seed ?? String(Number(stamp.slice(-6)));
const dataDir = join(root, '.stack', 'data', run);
const logDir = join(root, '.stack', 'logs');
mkdirSync(dataDir, { recursive: true });
mkdirSync(logDir, { recursive: true });

const env: NodeJS.ProcessEnv = {
  ...process.env,
  NEXTACT_TOPIC_PREFIX: `${run}.`,
  CHDB_PATH: join(dataDir, 'chdb'),
  ENGINE_STATE_DIR: join(dataDir, 'engine'),
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
};
const config = loadConfig(env);
const ports = { gateway: config.gatewayPort, engine: config.enginePort, analytics: config.analyticsPort };
const children: ServiceProcess[] = [];

function start(service: ServiceName, port: number, args: string[] = []): ServiceProcess {
  const svc = startService(service, { env, port, args, logFile: join(logDir, `${run}-${service}.log`) });
  children.push(svc);
  void svc.exited.then((code) => {
    if (!stopping && service !== 'simulator') {
      console.error(`\n${service} exited (${code ?? svc.exit?.signal}); see .stack/logs/${run}-${service}.log`);
      void shutdown(1);
    }
  });
  return svc;
}

let stopping = false;
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

function showDecision(d: Decision): string {
  const chosen = d.candidates.find((c) => c.actionId === d.actionId);
  const gates = d.reasonCodes.filter((c) => !c.startsWith('ELIGIBLE')).slice(0, 4);
  return [
    `  ${d.customerId}  ${d.journeyStage.padEnd(13)} → ${d.actionId} via ${d.channel}${d.deliver ? '' : ' (not delivered)'}  arm=${d.experimentArm}  p=${d.probability.toFixed(3)}`,
    `      score ${d.score.toFixed(3)}${chosen ? ` = propensity ${chosen.propensity.toFixed(3)} × value ${chosen.value} × context ${chosen.contextWeight} × lever ${chosen.lever} + benefit ${chosen.benefit}` : ''}`,
    `      reasons: ${gates.join(', ') || 'all gates passed'}${d.reasonCodes.length > gates.length ? ' …' : ''}   policy ${d.policyVersion}, trigger ${d.triggerType}`,
  ].join('\n');
}

async function main(): Promise<void> {
  console.log(`== run ${run}: topics ${config.topicPrefix}*, ClickHouse ${env.CHDB_PATH}, logs .stack/logs/${run}-*.log`);
  const services = [start('engine', ports.engine), start('analytics', ports.analytics), start('gateway', ports.gateway)];
  await Promise.all(services.map((svc) => waitReady(svc, 180_000)));
  console.log(
    `== gateway :${ports.gateway}, engine :${ports.engine}, analytics :${ports.analytics} ready; simulating ${values.customers} customers at ${values.rate} events/s for ${values.seconds}s (seed ${seed})`,
  );

  const sim = start('simulator', 0, [
    '--seed',
    seed,
    '--customers',
    values.customers!,
    '--rate',
    values.rate!,
    '--duration',
    values.seconds!,
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

  // Let the engine and the sink drain what the simulator sent.
  const drainDeadline = Date.now() + 60_000;
  let s = await status();
  while ((s.engineLag > 0 || s.sinkLag > 0) && Date.now() < drainDeadline) {
    await new Promise((r) => setTimeout(r, 1_000));
    s = await status();
  }
  await new Promise((r) => setTimeout(r, 2_500)); // one more sink flush interval
  console.log(`== final: ${(await status()).line}`);

  console.log('\n== sample decisions (partition 0)');
  for (const d of await sampleDecisions()) console.log(showDecision(d));

  console.log('\n== attribution report');
  await new Promise<void>((resolveReport, reject) => {
    const report = spawn(process.execPath, ['--import', 'tsx', join(root, 'services/analytics/src/report.ts')], { cwd: root, env, stdio: 'inherit' });
    report.once('exit', (code) => (code === 0 ? resolveReport() : reject(new Error(`report exited with ${code}`))));
  });
  console.log(`\n== done. Data of this run: topics ${config.topicPrefix}*, ClickHouse folder ${env.CHDB_PATH}`);
  console.log(`   report again: CHDB_PATH=${env.CHDB_PATH} npm run report`);
  console.log(`   Prometheus: ${process.env.PROMETHEUS_URL ?? 'http://127.0.0.1:9090'} (scrapes the services while they run)`);
}

main()
  .then(() => shutdown(0))
  .catch((err) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    return shutdown(1);
  });
