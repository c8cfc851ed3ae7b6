/**
 * HTTP ingest benchmark against the running stack:
 *   npx tsx services/gateway/bench/http-bench.ts --events 50000 --batch 100 --concurrency 8
 * Optional: --linger <ms> --max-sends <n> --max-batch-records <n> --partitions <n> --customers <n>.
 * Starts a gateway in-process on a unique topic prefix, posts valid browse events over a
 * keep-alive agent, prints accepted events/s and request latency, and deletes its topics.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import {
  codecFromConfig,
  createLogger,
  createMetricsRegistry,
  kafkaFromConfig,
  loadConfig,
  provision,
  startHttpService,
  subjectFor,
  topicBindings,
  topicNames,
  topicSpecs,
} from '@nextact/core';
import { createGateway, defaultBatching } from '../src/gateway';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '8' },
    linger: { type: 'string', default: String(defaultBatching.lingerMs) },
    'max-sends': { type: 'string', default: String(defaultBatching.maxConcurrentSends) },
    'max-batch-records': { type: 'string', default: String(defaultBatching.maxBatchRecords) },
    partitions: { type: 'string', default: '6' },
    customers: { type: 'string', default: '10000' },
  },
});

const totalEvents = Number(args.events);
const batchSize = Number(args.batch);
const concurrency = Number(args.concurrency);
const customers = Number(args.customers);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function postOnce(agent: Agent, url: URL, body: Buffer, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length), authorization: `Bearer ${token}` } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const prefix = `bench-gw-${randomUUID().slice(0, 8)}.`;
  const token = `bench-token-${randomUUID()}`;
  const config = loadConfig({
    ...process.env,
    NEXTACT_TOPIC_PREFIX: prefix,
    NEXTACT_PARTITIONS: String(args.partitions),
    GATEWAY_AUTH_TOKEN: token,
    GATEWAY_PORT: '0',
    GATEWAY_MAX_BATCH: String(Math.max(batchSize, 1000)),
  });
  const logger = createLogger({ level: 'warn', bindings: { service: 'gateway-bench' } });
  const kafka = kafkaFromConfig(config, logger, 'gateway-bench');
  const codec = codecFromConfig(config, logger);
  await provision(config, kafka, codec, logger);
  const producer = await kafka.producer({ idempotent: true });
  const metrics = createMetricsRegistry('gateway-bench');
  const batching = { lingerMs: Number(args.linger), maxConcurrentSends: Number(args['max-sends']), maxBatchRecords: Number(args['max-batch-records']) };
  const gateway = createGateway({ config, producer, codec, topics: topicNames(prefix), logger, metrics, batching });
  const http = await startHttpService({ name: 'gateway', host: config.httpHost, port: 0, metrics, logger, routes: gateway.routes });
  const url = new URL('/v1/events', http.url);
  const admin = await kafka.admin();

  // Bodies are built before the clock starts so the figures are the gateway's, not the client's JSON work.
  const requests = Math.ceil(totalEvents / batchSize);
  const base = Date.now();
  const bodies: Buffer[] = [];
  const counts: number[] = [];
  for (let r = 0; r < requests; r++) {
    const n = Math.min(batchSize, totalEvents - r * batchSize);
    const events = Array.from({ length: n }, (_, i) => ({
      type: 'browse',
      eventId: `${prefix}${r}-${i}`,
      customerId: `cust-${(r * batchSize + i) % customers}`,
      eventTime: base + r,
      source: 'bench',
      kind: 'PRODUCT_VIEW',
      productId: `sku-${i % 500}`,
      category: 'bench',
    }));
    bodies.push(Buffer.from(JSON.stringify(events)));
    counts.push(n);
  }

  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  // Warm-up: connections, metadata, first produce.
  const warm = await postOnce(agent, url, bodies[0]!, token);
  const warmEvents = warm === 202 ? counts[0]! : 0;

  let acceptedEvents = 0;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 1;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= bodies.length) return;
        const t0 = process.hrtime.bigint();
        const status = await postOnce(agent, url, bodies[i]!, token);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 202) acceptedEvents += counts[i]!;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const marks = await admin.watermarks(topicNames(prefix).customerEvents);
  const onTopic = marks.reduce((s, m) => s + Number(m.high), 0);
  latencies.sort((a, b) => a - b);
  const json = await metrics.getMetricsAsJSON();
  const hist = (name: string) => {
    const m = json.find((x) => x.name === name);
    const vals = (m?.values ?? []) as { metricName?: string; value: number }[];
    return {
      sum: vals.find((v) => v.metricName === `${name}_sum`)?.value ?? 0,
      count: vals.find((v) => v.metricName === `${name}_count`)?.value ?? 0,
    };
  };
  const sizes = hist('nextact_gateway_batch_size');
  const produce = hist('nextact_gateway_produce_duration_seconds');

  const report = {
    events: totalEvents,
    requestBatch: batchSize,
    concurrency,
    batching,
    partitions: config.partitions,
    seconds: Number(seconds.toFixed(2)),
    acceptedEvents,
    acceptedEventsPerSecond: Math.round(acceptedEvents / seconds),
    requestsPerSecond: Math.round(latencies.length / seconds),
    statuses: Object.fromEntries(statuses),
    latencyMs: { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies.at(-1) },
    kafkaSends: sizes.count,
    meanRecordsPerSend: Math.round(sizes.sum / Math.max(1, sizes.count)),
    meanProduceMs: Number(((produce.sum / Math.max(1, produce.count)) * 1000).toFixed(2)),
    recordsOnTopic: onTopic,
  };
  for (const k of ['p50', 'p90', 'p99', 'max'] as const) report.latencyMs[k] = Number(report.latencyMs[k]?.toFixed(2));
  console.log(JSON.stringify(report, null, 2));

  agent.destroy();
  await gateway.close();
  await http.close();
  await producer.close();
  await admin.deleteTopics(topicSpecs(config).map((s) => s.name));
  await admin.close();
  // The run's subjects too (soft, then hard delete), so benches do not pile up in the registry.
  for (const { topic, records } of topicBindings(prefix)) {
    for (const name of records) {
      const subject = `${config.schemaRegistryUrl}/subjects/${encodeURIComponent(subjectFor(topic, name))}`;
      await fetch(subject, { method: 'DELETE' }).catch(() => undefined);
      await fetch(`${subject}?permanent=true`, { method: 'DELETE' }).catch(() => undefined);
    }
  }
  // Failed sends may have written part of a batch, so only fewer-than-acknowledged is an error.
  if (onTopic < acceptedEvents + warmEvents) {
    console.error(`mismatch: ${onTopic} records on the topic but ${acceptedEvents + warmEvents} acknowledged`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
