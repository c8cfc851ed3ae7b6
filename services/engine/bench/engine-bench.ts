/**
 * Engine benchmark on the real stack (own topic prefix, deleted afterwards):
 *   1. backlog throughput: N events pre-produced, one instance processes them (events/s);
 *   2. latency at a steady offered rate: event-to-decision p50/p99 from the latency histogram;
 *   3. restore: all partitions rebuilt from the changelog (records/s), and heap per journey.
 * Run: node --expose-gc --import tsx services/engine/bench/engine-bench.ts [--events 50000] [--partitions 6]
 *      [--customers 5000] [--rate 2000] [--steady 10000] [--domain nba|fake]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '@nextact/core';
import type { DecisionDomain } from '../src/domain';
import { createNbaDomain } from '../src/nba';
import { loadPolicy } from '../src/policy/load';
import { restorePartitions } from '../src/runtime/restore';
import { PartitionStore } from '../src/runtime/store';
import { fakeDomain } from '../test/runtime/fake-domain';
import { makeEvents, produceEvents, startEngine, testStack, waitCaughtUp } from '../test/runtime/helpers';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** Quantile from cumulative histogram buckets, linear inside the bucket (as Prometheus does). */
function quantile(buckets: { le: number; count: number }[], q: number): number {
  const total = buckets[buckets.length - 1]?.count ?? 0;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(1, b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

const heap = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
};

async function main(): Promise<void> {
  const n = Number(arg('events', '50000'));
  const partitions = Number(arg('partitions', '6'));
  const customers = Number(arg('customers', '5000'));
  const rate = Number(arg('rate', '2000'));
  const steady = Number(arg('steady', '10000'));
  const policyFile = join(__dirname, '../policy/policy.yaml');
  const say = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString()}] ${msg}\n`);
  const which = arg('domain', existsSync(policyFile) ? 'nba' : 'fake');
  const makeDomain = (): DecisionDomain<unknown, unknown> =>
    (which === 'nba' ? createNbaDomain(loadPolicy(policyFile)) : fakeDomain()) as unknown as DecisionDomain<unknown, unknown>;

  const stack = await testStack('bench', partitions);
  const report: Record<string, unknown> = { events: n, partitions, customers, domain: which, instances: 1 };
  try {
    const events = makeEvents(n + steady, customers, 99);
    let t = Date.now();
    await produceEvents(stack, events.slice(0, n), 2_000);
    report.produceEventsPerSec = Math.round(n / ((Date.now() - t) / 1000));

    say(`produced ${n} events`);
    // 1. Backlog throughput.
    const groupId = `${stack.prefix}engine`;
    const domain = makeDomain();
    t = Date.now();
    const { engine, metrics } = await startEngine(stack, domain, { groupId, instanceId: 'bench-1', stateDir: undefined, sessionTimeoutMs: 30_000 });
    await waitCaughtUp(stack, groupId, 600_000);
    const backlogSeconds = (Date.now() - t) / 1000;
    report.backlogSeconds = backlogSeconds;
    report.backlogEventsPerSec = Math.round(n / backlogSeconds);

    say(`backlog done in ${backlogSeconds}s`);
    // 2. Steady offered load: latency of an engine that keeps up.
    metrics.decisionLatency.reset();
    t = Date.now();
    const chunk = Math.max(1, Math.round(rate / 20));
    for (let i = n; i < n + steady; i += chunk) {
      await produceEvents(stack, events.slice(i, Math.min(n + steady, i + chunk)), chunk);
      const ahead = (i + chunk - n) / rate - (Date.now() - t) / 1000;
      if (ahead > 0) await sleep(ahead * 1000);
    }
    report.steadyOfferedEventsPerSec = Math.round(steady / ((Date.now() - t) / 1000));
    await waitCaughtUp(stack, groupId, 600_000);
    const hist = (await metrics.registry.getSingleMetric('nextact_engine_decision_latency_seconds')!.get()).values
      .filter((v) => (v as { metricName?: string }).metricName === 'nextact_engine_decision_latency_seconds_bucket') // histogram values carry it; the type does not say so
      .map((v) => ({ le: v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le), count: v.value }))
      .sort((a, b) => a.le - b.le);
    report.steadyDecisions = hist[hist.length - 1]?.count;
    report.latencyP50Ms = Math.round(quantile(hist, 0.5) * 10000) / 10;
    report.latencyP99Ms = Math.round(quantile(hist, 0.99) * 10000) / 10;
    say('steady phase done');
    const status = engine.status();
    report.journeys = status.partitions.reduce((s, p) => s + p.journeys, 0);
    await engine.stop();
    say('engine stopped');

    // 3. Restore from the changelog alone, and heap per journey.
    const admin = await stack.kafka.admin();
    try {
      const before = heap();
      const stores = Array.from({ length: partitions }, () => new PartitionStore(makeDomain()));
      t = Date.now();
      const outcomes = await restorePartitions({
        kafka: stack.kafka,
        admin,
        changelogTopic: stack.topics.journeyChangelog,
        items: stores.map((store, partition) => ({ partition, store })),
        logger: stack.logger,
      });
      const seconds = (Date.now() - t) / 1000;
      say(`restored in ${seconds}s`);
      const records = outcomes.reduce((s, o) => s + o.records, 0);
      const journeys = stores.reduce((s, st) => s + st.size, 0);
      const after = heap();
      report.restoreRecords = records;
      report.restoreSeconds = seconds;
      report.restoreRecordsPerSec = Math.round(records / seconds);
      report.restoredJourneys = journeys;
      report.heapBytesPerJourney = Math.round((after - before) / journeys);
      report.heapMeasuredWithGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
    } finally {
      await admin.close();
    }
  } finally {
    await stack.cleanup();
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
