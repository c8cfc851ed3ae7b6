/**
 * CLI: npx tsx services/simulator/src/main.ts --seed 42 --customers 1000 --rate 2000 --duration 30 --sink kafka [--respond]
 * Progress goes to stderr once a second; the summary is one JSON line on stdout.
 */
import { parseArgs } from 'node:util';
import { createLogger, errorMessage, loadConfig, startHttpService } from '@nextact/core';
import type { EffectsOverrides } from './effects';
import { createSimulatorMetrics } from './metrics';
import { runSimulation } from './run';
import type { SinkKind } from './sinks';

const usage = `Usage: simulator [options]
  --seed N             PRNG seed (default 42)
  --customers N        simulated customers (default 1000)
  --rate N             events per second, 0 = unlimited (default 1000)
  --duration SEC       stop after SEC wall-clock seconds (with --sim-days: the run's pace instead)
  --count N            stop after N events
  --sim-days N         cover simulated time [epoch, epoch + N days): every event before the end is
                       sent, none after, then the run stops (or earlier at --count). With --duration,
                       the simulated clock advances N days over SEC wall seconds, linearly, and events
                       are sent as their simulated time comes due; --rate stays a cap (if it binds,
                       the run takes longer than SEC but still covers N days). The world makes about
                       9 events per customer per simulated day, so for R events/s over SEC seconds
                       pick --customers ~ R*SEC/(9*N), e.g. 300/s for 60 s over 14 days: 140.
  --sink KIND          kafka | gateway | stdout (default kafka)
  --gateway-url URL    gateway base URL (default http://HTTP_HOST:GATEWAY_PORT)
  --gateway-token T    bearer token (default GATEWAY_AUTH_TOKEN)
  --respond            answer decisions from the decisions topic
  --responder-group G  consumer group of the responder
  --topic-prefix P     overrides NEXTACT_TOPIC_PREFIX
  --ops-port N         ops HTTP port (default SIMULATOR_PORT; 0 = any free port)
  --batch N            events per send (default 500)
  --in-flight N        batches awaiting acks at once (default 4 for kafka)
  --producers N        Kafka producers in parallel, customers pinned to one each (default 2)
  --epoch ISO          simulated start time (default 2026-01-01T00:00:00Z)
  --lift X             offer_discount conversion lift (default 0.15)
  --csat-delta Y       CSAT change of a survey within 24 h of a complaint (default -1)
  --nps-delta Y        NPS change of that survey (default -2)
  --purchases KIND     sessions (browse sessions end in checkouts, default) or bgnbd: purchases follow
                       BG/NBD + Gamma-Gamma with known parameters (ground truth for the CLV fit)
  --bgnbd r,alpha,a,b  BG/NBD parameters, time unit days (default 0.8,12,1.2,4)
  --gamma-gamma p,q,g  Gamma-Gamma parameters, spend in major units (default 4,5,120)
  --stage-from S       whose journey stage decides who a lift applies to: world (the simulated
                       customer's own, default) or decision (the stage the engine stamped)
  --no-progress        no progress lines on stderr`;

function num(name: string, raw: string | undefined, fallback?: number): number | undefined {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${JSON.stringify(raw)}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      customers: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      count: { type: 'string' },
      'sim-days': { type: 'string' },
      sink: { type: 'string' },
      'gateway-url': { type: 'string' },
      'gateway-token': { type: 'string' },
      respond: { type: 'boolean' },
      'responder-group': { type: 'string' },
      'topic-prefix': { type: 'string' },
      'ops-port': { type: 'string' },
      batch: { type: 'string' },
      producers: { type: 'string' },
      'in-flight': { type: 'string' },
      epoch: { type: 'string' },
      lift: { type: 'string' },
      'csat-delta': { type: 'string' },
      'nps-delta': { type: 'string' },
      'stage-from': { type: 'string' },
      purchases: { type: 'string' },
      bgnbd: { type: 'string' },
      'gamma-gamma': { type: 'string' },
      'no-progress': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const env = { ...process.env };
  if (values['topic-prefix'] !== undefined) env.NEXTACT_TOPIC_PREFIX = values['topic-prefix'];
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, bindings: { service: 'simulator' } });

  const sink = (values.sink ?? 'kafka') as SinkKind;
  if (!['kafka', 'gateway', 'stdout'].includes(sink)) throw new Error(`--sink must be kafka, gateway or stdout, got ${JSON.stringify(values.sink)}`);
  const epochMs = values.epoch === undefined ? undefined : Date.parse(values.epoch);
  if (epochMs !== undefined && Number.isNaN(epochMs)) throw new Error(`--epoch must be an ISO date, got ${JSON.stringify(values.epoch)}`);
  const effects: EffectsOverrides = {};
  const lift = num('lift', values.lift);
  if (lift !== undefined) effects.actions = { offer_discount: { conversion: { lift } } };
  const csatDelta = num('csat-delta', values['csat-delta']);
  const npsDelta = num('nps-delta', values['nps-delta']);
  if (csatDelta !== undefined || npsDelta !== undefined)
    effects.survey = { ...(csatDelta !== undefined ? { csatDelta } : {}), ...(npsDelta !== undefined ? { npsDelta } : {}) };
  const stageFrom = values['stage-from'];
  if (stageFrom !== undefined) {
    if (stageFrom !== 'world' && stageFrom !== 'decision') throw new Error(`--stage-from must be world or decision, got ${JSON.stringify(stageFrom)}`);
    effects.stageFrom = stageFrom;
  }

  const purchases = values.purchases ?? 'sessions';
  if (purchases !== 'sessions' && purchases !== 'bgnbd') throw new Error(`--purchases must be sessions or bgnbd, got ${JSON.stringify(purchases)}`);
  const list = (name: string, raw: string | undefined, keys: string[]): Record<string, number> => {
    if (raw === undefined) return {};
    const parts = raw.split(',').map(Number);
    if (parts.length !== keys.length || parts.some((v) => !(v > 0)))
      throw new Error(`--${name} needs ${keys.length} positive numbers ${keys.join(',')}, got ${JSON.stringify(raw)}`);
    return Object.fromEntries(keys.map((k, i) => [k, parts[i] as number]));
  };
  const purchaseProcess = { ...list('bgnbd', values.bgnbd, ['r', 'alpha', 'a', 'b']), ...list('gamma-gamma', values['gamma-gamma'], ['p', 'q', 'gamma']) };

  const metrics = createSimulatorMetrics();
  let ready = false;
  const ops = await startHttpService({
    name: 'simulator',
    host: config.httpHost,
    port: num('ops-port', values['ops-port'], config.simulatorPort) as number,
    metrics: metrics.registry,
    logger,
    readiness: () => (ready ? { ready: true } : { ready: false, reason: 'provisioning' }),
  });
  const abort = new AbortController();
  const stop = () => {
    logger.info('stopping after the batches in flight');
    abort.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const summary = await runSimulation({
      config,
      seed: num('seed', values.seed, 42) as number,
      customers: num('customers', values.customers, 1000) as number,
      rate: num('rate', values.rate, 1000),
      durationSec: num('duration', values.duration),
      count: num('count', values.count),
      simDays: num('sim-days', values['sim-days']),
      sink,
      gatewayUrl: values['gateway-url'],
      gatewayToken: values['gateway-token'],
      respond: values.respond ?? false,
      respondGroupId: values['responder-group'],
      batchSize: num('batch', values.batch),
      maxInFlight: num('in-flight', values['in-flight']),
      producers: num('producers', values.producers),
      epochMs,
      effects,
      purchases,
      purchaseProcess,
      logger,
      metrics,
      progress: !values['no-progress'],
      signal: abort.signal,
      onReady: () => {
        ready = true;
      },
    });
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } finally {
    await ops.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'simulator failed', error: errorMessage(err), code: (err as { code?: string }).code })}\n`);
    process.exit(1);
  },
);
