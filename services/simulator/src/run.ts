/**
 * One simulation run: provision, produce world events at a controlled rate until a count or a
 * duration is reached, optionally answer decisions, and report a summary.
 */
import {
  type Config,
  type CustomerEvent,
  codecFromConfig,
  createLogger,
  ErrorCodes,
  type KafkaClient,
  kafkaFromConfig,
  type Logger,
  NextActError,
  provisionUntilReady,
  type RecordCodec,
  sleep,
  topicNames,
} from '@nextact/core';
import { describeGroundTruth, type EffectsOverrides } from './effects';
import { kindOf } from './kinds';
import { createSimulatorMetrics, type SimulatorMetrics } from './metrics';
import type { PurchaseProcessConfig } from './purchases';
import { Responder, type ResponderStats } from './responder';
import { type EventSink, GatewaySink, KafkaSink, type SinkKind, StdoutSink } from './sinks';
import { World } from './world';

export interface SimulationOptions {
  config: Config;
  seed: number;
  customers: number;
  /** Stop after this many world events. */
  count?: number;
  /**
   * Stop after this many wall-clock seconds. With `simDays`, the run's pace instead: the simulated
   * clock advances `simDays` days over `durationSec` seconds, linearly.
   */
  durationSec?: number;
  /**
   * The run covers simulated time [epoch, epoch + simDays days): every world event before the end
   * is sent, none at or after it, and the run stops there (or earlier at `count`).
   */
  simDays?: number;
  /** Target events per second; 0 or undefined means as fast as the sink takes them. */
  rate?: number;
  sink: SinkKind | EventSink;
  gatewayUrl?: string;
  gatewayToken?: string;
  /** Answer decisions read from the decisions topic. */
  respond?: boolean;
  respondGroupId?: string;
  /** With a new responder group, read decisions from the topic's start (default: only new ones). */
  respondFromBeginning?: boolean;
  /** Keep answering decisions this long after the last world event (default 2 s). */
  respondDrainSec?: number;
  effects?: EffectsOverrides;
  /** 'bgnbd': purchases follow a BG/NBD + Gamma-Gamma process with these (or default) parameters. */
  purchases?: 'sessions' | 'bgnbd';
  purchaseProcess?: Partial<PurchaseProcessConfig>;
  epochMs?: number;
  /** Kafka sink: producers (lanes) sending in parallel; each customer stays on one (default 2). */
  producers?: number;
  /** Events per send (default 500). */
  batchSize?: number;
  /** Sends awaiting acknowledgement at once (default 4; 1 for the gateway keeps per-customer order). */
  maxInFlight?: number;
  logger?: Logger;
  metrics?: SimulatorMetrics;
  /** true: a progress line per second on stderr; a function receives the progress instead. */
  progress?: boolean | ((p: Progress) => void);
  signal?: AbortSignal;
  /** Called once topics are provisioned, the sink is open and the responder (if any) is assigned. */
  onReady?: () => void;
}

export interface Progress {
  elapsedSec: number;
  sent: number;
  ratePerSec: number;
  byType: Record<string, number>;
  decisions: number;
  responses: number;
  simTime: string;
}

export interface SimulationSummary {
  seed: number;
  customers: number;
  sink: string;
  topic: string | null;
  /** World events delivered to the sink. */
  events: number;
  byType: Record<string, number>;
  elapsedSec: number;
  eventsPerSec: number;
  simStart: string;
  simEnd: string;
  /** The simulated span asked for (`simDays`), or null when the run was bounded otherwise. */
  simDays: number | null;
  responder: ResponderStats | null;
  stages: Record<string, number>;
  transitions: Record<string, number>;
  groundTruth: ReturnType<typeof describeGroundTruth> & { purchaseProcess: PurchaseProcessConfig | null };
}

const DAY_MS = 86_400_000;

const emptyTypes = () => ({ browse: 0, chat: 0, purchase: 0, survey: 0, outcome: 0, consent: 0 }) as Record<string, number>;

export async function runSimulation(options: SimulationOptions): Promise<SimulationSummary> {
  const { config } = options;
  const logger = (options.logger ?? createLogger({ level: config.logLevel, bindings: { service: 'simulator' } })).child({ seed: options.seed });
  const metrics = options.metrics ?? createSimulatorMetrics();
  const rate = options.rate ?? 0;
  const batchSize = options.batchSize ?? 500;
  if (!(batchSize >= 1)) throw new NextActError(ErrorCodes.CONFIG_INVALID, 'batchSize must be at least 1');
  if (options.count !== undefined && !(options.count >= 0)) throw new NextActError(ErrorCodes.CONFIG_INVALID, 'count must be >= 0');
  if (!(rate >= 0)) throw new NextActError(ErrorCodes.CONFIG_INVALID, 'rate must be >= 0');
  const simDays = options.simDays;
  if (simDays !== undefined && !(simDays > 0 && Number.isFinite(simDays)))
    throw new NextActError(ErrorCodes.CONFIG_INVALID, `simDays must be a positive number of days, got ${simDays}`);
  if (options.durationSec !== undefined && !(options.durationSec > 0))
    throw new NextActError(ErrorCodes.CONFIG_INVALID, `durationSec must be positive, got ${options.durationSec}`);
  const sinkKind = typeof options.sink === 'string' ? options.sink : options.sink.kind;
  const maxInFlight = options.maxInFlight ?? (sinkKind === 'gateway' || sinkKind === 'stdout' ? 1 : 4);
  const topics = topicNames(config.topicPrefix);
  const world = new World({
    seed: options.seed,
    customers: options.customers,
    epochMs: options.epochMs,
    effects: options.effects,
    purchases: options.purchases,
    purchaseProcess: options.purchaseProcess,
  });

  // Kafka is needed for the Kafka sink and for reading decisions.
  const needsKafka = options.sink === 'kafka' || options.respond === true;
  let kafka: KafkaClient | undefined;
  let codec: RecordCodec | undefined;
  if (needsKafka) {
    kafka = kafkaFromConfig(config, logger, 'simulator');
    codec = codecFromConfig(config, logger);
    // The stack may still be coming up: retried with backoff (the failure logged), given up on abort.
    await provisionUntilReady(config, kafka, codec, logger, { stopping: () => options.signal?.aborted ?? false });
  }

  let sink: EventSink;
  if (typeof options.sink !== 'string') sink = options.sink;
  else if (options.sink === 'kafka') {
    const client = kafka as KafkaClient;
    const producers = await Promise.all(Array.from({ length: options.producers ?? 2 }, () => client.producer({ idempotent: true })));
    sink = new KafkaSink(producers, codec as RecordCodec, topics.customerEvents);
  } else if (options.sink === 'gateway') {
    const url = options.gatewayUrl ?? `http://${config.httpHost}:${config.gatewayPort}`;
    sink = new GatewaySink({ url, token: options.gatewayToken ?? config.gatewayToken, logger });
  } else sink = new StdoutSink();

  let responder: Responder | undefined;
  const ownsSink = typeof options.sink === 'string';
  try {
    if (options.respond) {
      responder = new Responder({
        kafka: kafka as KafkaClient,
        codec: codec as RecordCodec,
        world,
        sink,
        topic: topics.decisions,
        groupId: options.respondGroupId ?? `${config.topicPrefix}simulator-responder`,
        logger,
        metrics,
        fromBeginning: options.respondFromBeginning,
      });
      await responder.start();
    }
    options.onReady?.();

    const simStart = world.now;
    const byType = emptyTypes();
    let generated = 0;
    let sent = 0;
    let failure: unknown;
    const started = performance.now();
    let lastAck = started;
    const elapsedSec = () => (performance.now() - started) / 1000;
    // With simDays the duration paces the simulated clock instead of cutting the run.
    const paceSec = simDays !== undefined ? options.durationSec : undefined;
    const deadline = options.durationSec === undefined || paceSec !== undefined ? Number.POSITIVE_INFINITY : options.durationSec;
    const simEnd = simDays === undefined ? Number.POSITIVE_INFINITY : world.epochMs + simDays * DAY_MS;
    /** The simulated time up to which events may be released now. */
    const dueUntil = (elapsed: number) =>
      paceSec === undefined ? simEnd : Math.min(simEnd, world.epochMs + Math.min(1, elapsed / paceSec) * (simDays as number) * DAY_MS);
    let reachedEnd = false;
    const limit = options.count ?? Number.POSITIVE_INFINITY;
    const chunk = rate > 0 ? Math.max(1, Math.min(batchSize, Math.floor(rate / 50))) : batchSize;

    let window = { at: started, sent: 0 };
    let currentRate = 0;
    const report = (final = false) => {
      const now = performance.now();
      // The last line shows the run's average; the others the rate since the previous line.
      if (final) currentRate = sent / Math.max(0.001, (lastAck - started) / 1000);
      else if (now > window.at) currentRate = ((sent - window.sent) * 1000) / (now - window.at);
      window = { at: now, sent };
      const p: Progress = {
        elapsedSec: Math.round(elapsedSec() * 10) / 10,
        sent,
        ratePerSec: Math.round(currentRate),
        byType: { ...byType },
        decisions: responder?.stats.decisions ?? 0,
        responses: responder?.stats.events ?? 0,
        simTime: new Date(world.now).toISOString(),
      };
      if (typeof options.progress === 'function') options.progress(p);
      else if (options.progress) {
        const types = Object.entries(p.byType)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
        const loop = responder ? ` decisions=${p.decisions} responses=${p.responses}` : '';
        process.stderr.write(`[sim ${p.elapsedSec.toFixed(1)}s] sent=${p.sent} rate=${p.ratePerSec}/s ${types}${loop} sim-time=${p.simTime}\n`);
      }
    };
    const ticker = options.progress ? setInterval(() => report(), 1000) : undefined;
    ticker?.unref();

    const inFlight: Promise<void>[] = [];
    const deliver = (batch: CustomerEvent[]): Promise<void> =>
      sink.send(batch).then(
        () => {
          sent += batch.length;
          lastAck = performance.now();
          for (const e of batch) {
            const type = kindOf[e.name];
            byType[type] = (byType[type] ?? 0) + 1;
            metrics.events.inc({ type });
            if (e.name === 'nextact.ActionOutcome') metrics.outcomes.inc({ outcome: e.value.outcome });
          }
        },
        (err) => {
          failure ??= err;
        },
      );

    try {
      while (generated < limit && failure === undefined && !options.signal?.aborted && responder?.error === undefined) {
        const elapsed = elapsedSec();
        if (elapsed >= deadline) break;
        let n = Math.min(chunk, limit - generated);
        if (rate > 0) {
          // Token bucket: `rate` tokens per second, at most one chunk of burst.
          const tokens = rate * elapsed + chunk - generated;
          if (tokens < n) {
            if (tokens >= 1 && tokens >= n / 2) n = Math.floor(tokens);
            else {
              await sleep(Math.min(100, Math.max(1, ((n - tokens) / rate) * 1000)));
              continue;
            }
          }
        }
        const until = dueUntil(elapsed);
        const batch: CustomerEvent[] = [];
        while (batch.length < n) {
          const event = world.nextBefore(until);
          if (event === null) break;
          batch.push(event);
        }
        if (batch.length === 0) {
          if (until >= simEnd) {
            reachedEnd = true;
            break;
          }
          // Paced: nothing is due yet; wait a little of the simulated clock.
          await sleep(Math.max(1, Math.min(100, ((paceSec as number) * 1000) / ((simDays as number) * 24 * 60))));
          continue;
        }
        generated += batch.length;
        metrics.simTime.set(world.now / 1000);
        inFlight.push(deliver(batch));
        if (inFlight.length >= maxInFlight) await inFlight.shift();
        // Let timers (progress, heartbeats) and I/O run between batches.
        else await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await Promise.all(inFlight);
    } finally {
      if (ticker) clearInterval(ticker);
    }
    if (failure !== undefined) throw failure;
    if (responder?.error !== undefined) throw responder.error;
    const produceSec = (lastAck - started) / 1000;

    if (responder && (options.respondDrainSec ?? 2) > 0) await sleep((options.respondDrainSec ?? 2) * 1000);
    if (options.progress) report(true);
    const stats = world.stats();
    return {
      seed: options.seed,
      customers: options.customers,
      sink: String(sinkKind),
      topic: sinkKind === 'kafka' ? topics.customerEvents : null,
      events: sent,
      byType,
      elapsedSec: Math.round(produceSec * 1000) / 1000,
      eventsPerSec: produceSec > 0 ? Math.round(sent / produceSec) : 0,
      simStart: new Date(simStart).toISOString(),
      simEnd: new Date(reachedEnd ? simEnd : world.now).toISOString(),
      simDays: simDays ?? null,
      responder: responder ? responder.stats : null,
      stages: stats.stages,
      transitions: stats.transitions,
      groundTruth: { ...describeGroundTruth(world.effects), purchaseProcess: world.purchaseProcess },
    };
  } finally {
    await responder?.stop().catch((err) => logger.warn('responder stop failed', { err }));
    if (ownsSink) await sink.close().catch((err) => logger.warn('sink close failed', { err }));
  }
}
