/**
 * Gateway and sink scenarios, black-box: the gateway and the analytics service run as their own
 * processes on a scenario prefix; the gateway is driven over HTTP, the sink by a simulator backlog
 * produced while it is frozen. The sink's ceiling runs afterwards in its own process over the same
 * chdb folder (scripts/bench/sink-ceiling.ts).
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { repoRoot } from '../lib/services';
import { simulate } from './engine';
import { type BenchContext, finish, openScope, pause, percentile, ready, resume, round, runScript, startBenchService, topicRecords, waitCaughtUp } from './lib';

function post(agent: Agent, url: URL, body: Buffer, token: string): Promise<number> {
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

/** HTTP ingest: batches of 100 browse events from 8 keep-alive clients; a request is done at its 202 (after the broker's ack). */
export async function gatewayScenario(ctx: BenchContext): Promise<{ eps: number; p50: number | null; p99: number | null }> {
  const scope = await openScope(ctx, 'gateway');
  const token = `bench-${randomUUID()}`;
  const batch = 100;
  const concurrency = 8;
  const gateway = await startBenchService(ctx, 'gateway', 'gateway', { ...scope.env, GATEWAY_AUTH_TOKEN: token }, { portEnv: 'GATEWAY_PORT' });
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    await ready(gateway);
    const url = new URL(`http://127.0.0.1:${gateway.port}/v1/events`);
    // Bodies are built before the clock starts: the figure is the gateway's, not this client's JSON work.
    const requests = Math.ceil(ctx.sizes.gatewayEvents / batch);
    const base = Date.now();
    const bodies: Buffer[] = [];
    for (let r = 0; r < requests; r++) {
      const events = Array.from({ length: batch }, (_, i) => ({
        type: 'browse',
        eventId: `${scope.prefix}${r}-${i}`,
        customerId: `c-${String((r * batch + i) % 10_000).padStart(6, '0')}`,
        eventTime: base + r,
        source: 'bench',
        kind: 'PRODUCT_VIEW',
        productId: `sku-${i % 500}`,
        category: 'bench',
      }));
      bodies.push(Buffer.from(JSON.stringify(events)));
    }
    const warm = await post(agent, url, bodies[0]!, token);
    if (warm !== 202) throw new Error(`gateway answered ${warm} to the warm-up request`);
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    let accepted = 0;
    let next = 1;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (;;) {
          const i = next++;
          if (i >= bodies.length) return;
          const t0 = performance.now();
          const status = await post(agent, url, bodies[i]!, token);
          latencies.push(performance.now() - t0);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 202) accepted += batch;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const onTopic = await topicRecords(scope.kafka, scope.topics.customerEvents);
    if (onTopic < accepted + batch) throw new Error(`gateway acknowledged ${accepted + batch} events but ${onTopic} are on the topic`);
    latencies.sort((a, b) => a - b);
    const result = { eps: round(accepted / seconds), p50: round(percentile(latencies, 50) ?? 0, 1), p99: round(percentile(latencies, 99) ?? 0, 1) };
    ctx.details.gateway = { ...result, events: accepted, batch, concurrency, statuses, onTopic };
    ctx.say(`gateway: ${JSON.stringify(result)}`);
    return result;
  } finally {
    agent.destroy();
    await finish(ctx, [{ svc: gateway, label: 'gateway' }]);
    await scope.drop();
  }
}

export interface SinkFigures {
  sinkRps: number;
  ceilingRps: number;
}

/** Kafka → embedded ClickHouse through the analytics service, then chdb's own bulk insert of the same rows. */
export async function sinkScenario(ctx: BenchContext): Promise<SinkFigures> {
  const scope = await openScope(ctx, 'sink');
  const chdbPath = join(ctx.runDir, 'sink-chdb');
  const env = { ...scope.env, CHDB_PATH: chdbPath, CLICKHOUSE_URL: '' };
  const analytics = await startBenchService(ctx, 'analytics', 'analytics', env, { portEnv: 'ANALYTICS_PORT' });
  let stopped = false;
  try {
    await ready(analytics, 180_000);
    pause(analytics);
    const sim = await simulate(ctx, scope, 'produce-sink', ctx.sizes.sinkEvents, 20_000, { seed: 17 });
    const t0 = performance.now();
    resume(analytics);
    const t1 = await waitCaughtUp(scope.kafka, `${scope.prefix}analytics-sink`, scope.topics.customerEvents, 900_000, [analytics]);
    const sinkRps = round(sim.events / ((t1 - t0) / 1000));
    ctx.say(`sink: ${sinkRps} rows/s`);
    await finish(ctx, [{ svc: analytics, label: 'analytics' }]);
    stopped = true;

    const out = await runScript(ctx, 'sink-ceiling', join(repoRoot, 'scripts', 'bench', 'sink-ceiling.ts'), [chdbPath, scope.config.clickhouseDatabase]);
    const ceiling = JSON.parse(out.trim().split('\n').at(-1)!) as { rows: number; best: string; bestRowsPerSec: number; formats: object };
    if (ceiling.rows !== sim.events) throw new Error(`the sink stored ${ceiling.rows} of ${sim.events} events`);
    ctx.details.sink = { events: sim.events, produceEps: sim.eventsPerSec, sinkRps, ceiling };
    ctx.say(`sink ceiling: ${JSON.stringify(ceiling)}`);
    return { sinkRps, ceilingRps: ceiling.bestRowsPerSec };
  } finally {
    if (!stopped) await finish(ctx, [{ svc: analytics, label: 'analytics' }]);
    await scope.drop();
  }
}
