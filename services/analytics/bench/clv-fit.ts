/**
 * CLV bench: fit time from ClickHouse summaries for N customers, and the per-customer scoring cost
 * the engine would pay on every event.
 *
 *   npx tsx services/analytics/bench/clv-fit.ts [--customers 1000000] [--export]
 *
 * Purchases are generated inside ClickHouse by INSERT … SELECT FROM numbers() (deterministic hashes,
 * up to 24 purchases per customer, heterogeneous rates, dropout and spend), into a fresh embedded store in a temp folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, silentLogger } from '@nextact/core';
import { customerFuture, parametersOf, probabilityAlive } from '@nextact/core/src/models';
import { customerFutures, fitCustomerFutures } from '../src/futures';
import { createClickHouse, qualified } from '../src/store/clickhouse';
import { migrate } from '../src/store/migrations';

const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);
const AS_OF = START + 730 * DAY;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { customers: { type: 'string' }, export: { type: 'boolean' } } });
  const customers = Number(values.customers ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'nextact-clv-bench-'));
  const store = createClickHouse(loadConfig({ ...process.env, CHDB_PATH: join(dir, 'chdb'), CLICKHOUSE_URL: '', CLICKHOUSE_DATABASE: 'nextact' }));
  try {
    await migrate(store, silentLogger);
    const events = qualified(store.database, 'events');
    const t0 = performance.now();
    // Per customer: a purchase rate (lognormal, median one per 55 days), a dropout chance after each
    // purchase (0-0.8, skewed low), a spend level (lognormal); exponential gaps up to 24 purchases,
    // the first within the first year. Hash-based uniforms keep it deterministic.
    const u = (salt: string) => `((cityHash64(c, ${salt}) % 1000000) + 0.5) / 1000000`;
    const z = (s1: number, s2: number) => `(sqrt(-2 * log(${u(String(s1))})) * cos(2 * pi() * ${u(String(s2))}))`;
    await store.exec(
      `INSERT INTO ${events} (event_id, customer_id, event_type, event_time, source, amount_minor, currency, raw, kafka_partition, kafka_offset)
       SELECT
         concat('b-', toString(c), '-', toString(j)) AS event_id,
         concat('c-', toString(c)) AS customer_id,
         'purchase',
         fromUnixTimestamp64Milli(toInt64({start:Int64} + (first_day + t) * 86400000), 'UTC'),
         'bench',
         toInt64(greatest(100, level * (0.5 + ((cityHash64(c, 30 + j) % 1000) / 1000)))),
         'EUR', '{}', 0, c * 24 + j
       FROM
       (
         SELECT number AS c,
                cityHash64(c, 1) % 365 AS first_day,
                exp(-4 + 0.8 * ${z(2, 3)}) AS lambda,
                pow(${u('4')}, 2) * 0.8 AS p,
                exp(8 + 0.5 * ${z(5, 6)}) AS level,
                if(p < 1e-9, 24, 1 + floor(log(${u('7')}) / log(1 - p))) AS k,
                arrayCumSum(arrayMap(i -> if(i = 0, 0, -log(((cityHash64(c, 10 + i) % 1000000) + 0.5) / 1000000) / lambda), range(24))) AS times
         FROM numbers({n:UInt64})
       )
       ARRAY JOIN times AS t, range(24) AS j
       WHERE j < k AND first_day + t < 760`,
      { n: customers, start: START },
    );
    const insertMs = performance.now() - t0;
    const [count] = await store.rows<{ n: string; c: string }>(`SELECT count() AS n, uniqExact(customer_id) AS c FROM ${events}`);

    const fitStart = performance.now();
    const fitted = await fitCustomerFutures(store, { asOf: AS_OF, horizonDays: 365 });
    const fitMs = performance.now() - fitStart;

    // Scoring cost, as the engine would pay it per event: one customer's summary in, future out.
    const sample: { x: number; tx: number; T: number; meanSpend: number }[] = [];
    for await (const c of customerFutures(store, fitted.model)) {
      sample.push({ x: c.x, tx: c.tx, T: c.T, meanSpend: c.meanSpendMinor });
      if (sample.length >= 100_000) break;
    }
    const params = parametersOf(fitted.model);
    let sink = 0;
    for (const s of sample.slice(0, 10_000)) sink += customerFuture(params, s).pAlive; // warm-up
    const s0 = performance.now();
    for (const s of sample) sink += customerFuture(params, s).clv ?? 0;
    const scoreUs = ((performance.now() - s0) * 1000) / sample.length;
    const a0 = performance.now();
    for (const s of sample) sink += probabilityAlive(params.bgnbd, s.x, s.tx, s.T);
    const pAliveUs = ((performance.now() - a0) * 1000) / sample.length;

    let exportMs: number | null = null;
    if (values.export) {
      const e0 = performance.now();
      let n = 0;
      for await (const _ of customerFutures(store, fitted.model)) n++;
      exportMs = performance.now() - e0;
      if (n !== fitted.model.customers) throw new Error(`scored ${n} of ${fitted.model.customers}`);
    }
    const m = fitted.model;
    const figures = {
      customers: Number(count?.c),
      purchases: Number(count?.n),
      insertSelectMs: Math.round(insertMs),
      fitMs: Math.round(fitMs),
      fitQueryMs: Math.round(fitted.timings.queryMs),
      fitBgNbdMs: Math.round(fitted.timings.bgnbdMs),
      fitGammaGammaMs: Math.round(fitted.timings.gammaGammaMs),
      distinctSummaries: fitted.timings.summaryRows,
      distinctSpendRows: fitted.timings.spendRows,
      bgnbd: { r: m.bgnbd.r, alpha: m.bgnbd.alpha, a: m.bgnbd.a, b: m.bgnbd.b },
      gammaGamma: m.gammaGamma ? { p: m.gammaGamma.p, q: m.gammaGamma.q, gamma: m.gammaGamma.gamma } : null,
      scoreUsPerCustomer: Math.round(scoreUs * 100) / 100,
      pAliveUsPerCustomer: Math.round(pAliveUs * 1000) / 1000,
      scoreAllCustomersMs: exportMs === null ? null : Math.round(exportMs),
      checksum: Number.isFinite(sink),
    };
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
