/**
 * Closes the loop: reads decisions, lets the addressed customers react (World.respond) and
 * publishes the reactions through the sink. Plain consumer-group commits: a decision answered
 * twice after a crash gives the same event ids (they are derived from the decision id), so
 * downstream idempotency absorbs the repeat.
 */
import { type CustomerEvent, type Decision, errorMessage, type KafkaClient, type Logger, type RecordCodec, type RecordConsumer, sleep } from '@nextact/core';
import { kindOf } from './kinds';
import type { SimulatorMetrics } from './metrics';
import type { EventSink } from './sinks';
import type { World } from './world';

export interface ResponderOptions {
  kafka: KafkaClient;
  codec: RecordCodec;
  world: World;
  sink: EventSink;
  topic: string;
  groupId: string;
  logger: Logger;
  metrics?: SimulatorMetrics;
  /** Read the topic from its start when the group has no offsets (default: only new decisions). */
  fromBeginning?: boolean;
}

export interface ResponderStats {
  decisions: number;
  delivered: number;
  answered: number;
  ignored: Record<string, number>;
  decodeErrors: number;
  events: number;
  byType: Record<string, number>;
  outcomes: Record<string, number>;
}

export class Responder {
  private consumer: RecordConsumer | undefined;
  private failure: unknown;
  readonly stats: ResponderStats = { decisions: 0, delivered: 0, answered: 0, ignored: {}, decodeErrors: 0, events: 0, byType: {}, outcomes: {} };

  constructor(private readonly options: ResponderOptions) {}

  /** Joins the group and resolves once partitions are assigned, so no decision made after this is missed. */
  async start(timeoutMs = 30_000): Promise<void> {
    const { kafka, topic, groupId, logger } = this.options;
    let assigned = false;
    const consumer = await kafka.consumer({
      groupId,
      topics: [topic],
      fromBeginning: this.options.fromBeginning ?? false,
      commitMarked: true,
      rebalance: {
        assigned: (_partitions, assignment) => {
          assigned = true;
          logger.info('responder assigned', { groupId, partitions: assignment[topic] ?? [] });
        },
      },
    });
    this.consumer = consumer;
    await consumer.run((batch) => this.handle(batch.records, batch.markProcessed, batch.heartbeat));
    const deadline = Date.now() + timeoutMs;
    while (!assigned) {
      if (Date.now() > deadline) throw new Error(`responder group ${groupId} got no assignment within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** The first error the consumer loop hit, if any (the run stops on it). */
  get error(): unknown {
    return this.failure;
  }

  private async handle(records: { value: Buffer | null; offset: string }[], markProcessed: (offset: string) => void, heartbeat: () => Promise<void>) {
    const { codec, world, sink, metrics, logger } = this.options;
    const out: CustomerEvent[] = [];
    for (const record of records) {
      let decision: Decision;
      try {
        const decoded = await codec.decode(record.value);
        if (decoded.name !== 'nextact.Decision') continue;
        decision = decoded.value as Decision;
      } catch (err) {
        this.stats.decodeErrors++;
        logger.warn('decision not decodable; skipped', { err, offset: record.offset });
        continue;
      }
      this.stats.decisions++;
      metrics?.decisions.inc({ deliver: String(decision.deliver) });
      if (decision.deliver) this.stats.delivered++;
      const response = world.respond(decision);
      if (response.ignored) this.stats.ignored[response.ignored] = (this.stats.ignored[response.ignored] ?? 0) + 1;
      else this.stats.answered++;
      out.push(...response.events);
    }
    try {
      await sink.send(out);
    } catch (err) {
      this.failure ??= err;
      logger.error('responder could not publish reactions', { err: errorMessage(err) });
      throw err;
    }
    for (const e of out) {
      const type = kindOf[e.name];
      this.stats.byType[type] = (this.stats.byType[type] ?? 0) + 1;
      metrics?.events.inc({ type });
      if (e.name === 'nextact.ActionOutcome') {
        this.stats.outcomes[e.value.outcome] = (this.stats.outcomes[e.value.outcome] ?? 0) + 1;
        metrics?.outcomes.inc({ outcome: e.value.outcome });
      }
    }
    this.stats.events += out.length;
    const last = records[records.length - 1];
    if (last) markProcessed(last.offset);
    await heartbeat();
  }

  async stop(): Promise<void> {
    await this.consumer?.close();
    this.consumer = undefined;
  }
}
