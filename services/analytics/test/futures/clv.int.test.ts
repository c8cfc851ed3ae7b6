/**
 * The CLV pipeline on the real store, broker and registry: purchases drawn from BG/NBD + Gamma-Gamma
 * with known parameters go into chdb; the fit as of a date recovers the parameters, the holdout
 * comparison beats the previous heuristic, the export lists every customer, and a published model
 * reads back from the compacted models topic.
 */
import { createLogger, type HttpService, kafkaFromConfig, startHttpService } from '@nextact/core';
import { bgNbdLogLikelihood, customerFuture, parametersOf } from '@nextact/core/src/models';
import { Registry } from 'prom-client';
import { prng } from '../../../../test/support/prng';
import { betaSample, gammaSample } from '../../../core/test/models/process';
import { ClvModels, clvRoutes, fitCustomerFutures, MODEL_RECORD, ModelPublisher, modelsTopic } from '../../src/futures';
import { calibrationReport } from '../../src/reports/calibration';
import { clvReport, renderClv } from '../../src/reports/clv';
import { type ClickHouse, createClickHouse } from '../../src/store/clickhouse';
import { migrate } from '../../src/store/migrations';
import { blankEventRow, type EventRow } from '../../src/store/rows';
import { provisioned, testConfig } from '../helpers';

jest.setTimeout(600_000);

const D = 86_400_000;
const START = Date.UTC(2024, 0, 1);
const CALIBRATION_END = START + 365 * D;
const DATA_END = START + 545 * D;
const truthBg = { r: 1.5, alpha: 10, a: 1, b: 4 };
const truthGg = { p: 3, q: 12, gamma: 20_000 };
const CUSTOMERS = 5_000;

/** Customers first buy in the first 180 days; then the BG/NBD process runs to DATA_END. */
function purchases(): EventRow[] {
  const u = prng(1301);
  const rows: EventRow[] = [];
  let seq = 0;
  const add = (customer: string, at: number, amount: number) => {
    seq++;
    rows.push({
      ...blankEventRow({
        event_id: `p-${seq}`,
        customer_id: customer,
        event_type: 'purchase',
        event_time: at,
        source: 'clv-test',
        raw: '{}',
        kafka_partition: 0,
        kafka_offset: String(seq),
      }),
      amount_minor: amount,
      currency: 'EUR',
    });
  };
  for (let i = 0; i < CUSTOMERS; i++) {
    const id = `k-${String(i).padStart(5, '0')}`;
    const lambda = gammaSample(u, truthBg.r, truthBg.alpha);
    const dropout = betaSample(u, truthBg.a, truthBg.b);
    const nu = gammaSample(u, truthGg.q, truthGg.gamma);
    const spend = () => Math.max(1, Math.round(gammaSample(u, truthGg.p, nu)));
    let t = START + u() * 180 * D;
    add(id, Math.floor(t), spend());
    for (;;) {
      t += (-Math.log(1 - u()) / lambda) * D;
      if (t >= DATA_END) break;
      add(id, Math.floor(t), spend());
      if (u() < dropout) break;
    }
  }
  return rows;
}

describe('CLV on the real stack', () => {
  const config = testConfig('clv');
  const logger = createLogger({ level: 'warn', bindings: { test: 'clv.int' } });
  let store: ClickHouse;
  let http: HttpService;
  let stack: Awaited<ReturnType<typeof provisioned>>;
  let models: ClvModels;

  beforeAll(async () => {
    stack = await provisioned(config, 'clv');
    store = createClickHouse(config);
    await migrate(store, logger);
    const rows = purchases();
    for (let i = 0; i < rows.length; i += 20_000) await store.insert('events', rows.slice(i, i + 20_000));
    models = new ClvModels(store, new ModelPublisher(config, stack.kafka, stack.codec), logger);
    http = await startHttpService({
      name: 'analytics',
      host: '127.0.0.1',
      port: 0,
      metrics: new Registry(),
      logger,
      routes: clvRoutes(
        () => store,
        () => models,
        logger,
      ),
    });
  });
  afterAll(async () => {
    await http?.close();
    await store?.close();
    const admin = await stack.kafka.admin();
    await admin.deleteTopics([modelsTopic(config.topicPrefix)]).catch(() => {});
    await admin.close();
    await stack?.cleanup();
  });

  it('fits as of a date from the store and recovers the parameters (day-granular summaries)', async () => {
    const { model, timings } = await fitCustomerFutures(store, { asOf: CALIBRATION_END, horizonDays: 180 });
    expect(model.customers).toBe(CUSTOMERS);
    // Grouping identical summaries: fewer rows than customers.
    expect(timings.summaryRows).toBeLessThan(CUSTOMERS);
    // Within 10% is the unit test's claim on exact times; whole days (several purchases on one day
    // count once, t_x and T rounded) move the estimates further (measured: up to 17%).
    for (const [k, v] of Object.entries(truthBg)) expect(Math.abs((model.bgnbd as unknown as Record<string, number>)[k]! / v - 1)).toBeLessThan(0.25);
    expect(model.bgnbd.rSe).toBeGreaterThan(0);
    expect(model.gammaGamma).not.toBeNull();
    for (const [k, v] of Object.entries(truthGg)) expect(Math.abs((model.gammaGamma as unknown as Record<string, number>)[k]! / v - 1)).toBeLessThan(0.15);
    expect(model.version).toMatch(/^clv-20241231-[0-9a-f]{10}$/);
    // Same data, same as-of: same version (replay-stable), whatever the wall clock.
    expect((await fitCustomerFutures(store, { asOf: CALIBRATION_END, horizonDays: 180 })).model.version).toBe(model.version);
    // An earlier as-of sees fewer customers.
    expect((await fitCustomerFutures(store, { asOf: START + 90 * D })).model.customers).toBeLessThan(CUSTOMERS);
  });

  it('holdout: closer than the previous heuristic in totals, MAE and Pearson, as good in Spearman', async () => {
    const c = await calibrationReport(store, { calibrationEnd: CALIBRATION_END, holdoutDays: 180 });
    expect(c.customers).toBe(CUSTOMERS);
    expect(c.purchases.model.totalActual).toBeGreaterThan(1_000);
    expect(c.purchases.model.totalPredicted / c.purchases.model.totalActual).toBeGreaterThan(0.85);
    expect(c.purchases.model.totalPredicted / c.purchases.model.totalActual).toBeLessThan(1.15);
    expect(c.purchases.model.meanAbsoluteError).toBeLessThan(c.purchases.heuristic.meanAbsoluteError);
    // On data from the BG/NBD process itself the heuristic ranks customers about as well (measured
    // Spearman 0.610 vs 0.613 for purchases, 0.610 vs 0.612 for revenue): ranks alone barely
    // separate them here; totals, MAE and Pearson do.
    expect(c.purchases.model.spearman as number).toBeGreaterThan((c.purchases.heuristic.spearman as number) - 0.02);
    const revenue = c.revenue!;
    expect(revenue.model.meanAbsoluteError).toBeLessThan(revenue.heuristic.meanAbsoluteError);
    expect(revenue.model.spearman as number).toBeGreaterThan((revenue.heuristic.spearman as number) - 0.02);
    expect(c.purchases.model.pearson as number).toBeGreaterThan(c.purchases.heuristic.pearson as number);
    expect(revenue.model.pearson as number).toBeGreaterThan(revenue.heuristic.pearson as number);
    expect(revenue.model.totalPredicted / revenue.model.totalActual).toBeGreaterThan(0.8);
    expect(revenue.model.totalPredicted / revenue.model.totalActual).toBeLessThan(1.2);
  });

  it('the report gives parameters with standard errors and per-customer futures from the model', async () => {
    const report = await clvReport(store, { asOf: CALIBRATION_END, horizonDays: 180, top: 5, calibrationEnd: CALIBRATION_END, holdoutDays: 90 });
    expect(report.model?.bgnbd.r.standardError).toBeGreaterThan(0);
    expect(report.summary.customers).toBe(CUSTOMERS);
    expect(report.topCustomers).toHaveLength(5);
    const first = report.topCustomers[0]!;
    expect(first.clvMinor).toBeGreaterThanOrEqual(report.topCustomers[4]!.clvMinor as number);
    const { model } = await fitCustomerFutures(store, { asOf: CALIBRATION_END, horizonDays: 180 });
    const expected = customerFuture(parametersOf(model), { x: first.x, tx: first.tx, T: first.T, meanSpend: first.meanSpendMinor });
    expect(first.clvMinor).toBeCloseTo(expected.clv as number, 6);
    expect(first.pAlive).toBeGreaterThan(0);
    expect(first.pAlive).toBeLessThanOrEqual(1);
    expect(report.calibration?.holdoutDays).toBe(90);
    // No decisions in this store: one profile, nobody contacted.
    expect(report.segments).toEqual([expect.objectContaining({ journeyStage: 'NONE', customers: CUSTOMERS, neverContacted: 1, heldOut: 0 })]);
    expect(report.segments[0]?.meanPredictedClvMinor).toBeCloseTo((report.summary.totalPredictedClvMinor as number) / CUSTOMERS, 3);
    const text = renderClv(report);
    expect(text).toContain('BG/NBD');
    expect(text).toContain('Holdout');
  });

  it('exports every customer as CSV and JSON Lines, streamed', async () => {
    const csv = await fetch(`${http.url}/v1/reports/clv/customers?format=csv&asOf=${CALIBRATION_END}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe('customerId,x,tx,T,meanSpendMinor,realisedMinor,pAlive,expectedPurchases,expectedSpendMinor,clvMinor');
    expect(lines).toHaveLength(CUSTOMERS + 1);
    const jsonl = await fetch(`${http.url}/v1/reports/clv/customers?format=jsonl&asOf=${CALIBRATION_END}`);
    const rows = (await jsonl.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { customerId: string; x: number; tx: number; T: number; pAlive: number; modelVersion: string });
    expect(rows).toHaveLength(CUSTOMERS);
    expect(new Set(rows.map((r) => r.customerId)).size).toBe(CUSTOMERS);
    for (const r of rows.slice(0, 50)) {
      expect(r.tx).toBeLessThanOrEqual(r.T);
      expect(Number.isFinite(bgNbdLogLikelihood(truthBg, r.x, r.tx, r.T))).toBe(true);
    }
    expect((await fetch(`${http.url}/v1/reports/clv/customers?format=xml`)).status).toBe(400);
  });

  it('publishes a version to the compacted models topic as Avro, once per version', async () => {
    const res = await fetch(`${http.url}/v1/models/clv?asOf=${CALIBRATION_END}&horizonDays=180`, { method: 'POST' });
    expect(res.status).toBe(200);
    const published = (await res.json()) as { model: { version: string }; position: { offset: string } | null };
    expect(published.position).not.toBeNull();
    const again = await models.fitAndPublish({ asOf: CALIBRATION_END, horizonDays: 180 });
    expect(again.position).toBeNull();

    const kafka = kafkaFromConfig(config, logger, 'clv-read');
    const seen: { key: string | null; value: unknown; timestamp: number }[] = [];
    await kafka.readPartitions(modelsTopic(config.topicPrefix), [{ partition: 0, from: '0' }], async (records) => {
      for (const r of records) seen.push({ key: r.key, value: await stack.codec.decode(r.value), timestamp: r.timestamp });
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.key).toBe(published.model.version);
    expect(seen[0]?.timestamp).toBe(CALIBRATION_END);
    const decoded = seen[0]?.value as { name: string; value: { version: string; bgnbd: { r: number } } };
    expect(decoded.name).toBe(MODEL_RECORD);
    expect(decoded.value.version).toBe(published.model.version);
    const admin = await kafka.admin();
    const topics = await admin.listTopics();
    await admin.close();
    expect(topics).toContain(modelsTopic(config.topicPrefix));
  });
});
