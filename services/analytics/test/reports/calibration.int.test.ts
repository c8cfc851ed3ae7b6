/**
 * On the simulator's own world (purchases from browse sessions, not from the models' process), the
 * holdout comparison against the previous heuristic: the issue's "beats it on MAE and Spearman".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, silentLogger } from '@nextact/core';
import { World } from '../../../simulator/src/world';
import { calibrationReport } from '../../src/reports/calibration';
import { type ClickHouse, createClickHouse } from '../../src/store/clickhouse';
import { migrate } from '../../src/store/migrations';
import { blankEventRow, type EventRow } from '../../src/store/rows';

jest.setTimeout(300_000);
const D = 86_400_000;

describe('CLV holdout on the simulated world', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nextact-clv-world-'));
  let store: ClickHouse;
  const world = new World({ seed: 42, customers: 800 });

  beforeAll(async () => {
    const end = world.epochMs + 150 * D;
    const rows: EventRow[] = [];
    for (let e = world.nextBefore(end); e !== null; e = world.nextBefore(end)) {
      if (e.name !== 'nextact.PurchaseEvent') continue;
      rows.push({
        ...blankEventRow({
          event_id: e.value.eventId,
          customer_id: e.value.customerId,
          event_type: 'purchase',
          event_time: e.value.eventTime,
          source: 'sim',
          raw: '{}',
          kafka_partition: 0,
          kafka_offset: String(rows.length),
        }),
        amount_minor: e.value.amountMinor,
        currency: e.value.currency,
      });
    }
    store = createClickHouse(loadConfig({ ...process.env, CHDB_PATH: join(dir, 'chdb'), CLICKHOUSE_URL: '', CLICKHOUSE_DATABASE: 'nextact' }));
    await migrate(store, silentLogger);
    await store.insert('events', rows);
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fit on 100 days, predict 50: closer than the heuristic in totals, MAE, Pearson and Spearman', async () => {
    const c = await calibrationReport(store, { calibrationEnd: world.epochMs + 100 * D, holdoutDays: 50 });
    const p = c.purchases;
    expect(p.model.totalActual).toBeGreaterThan(500);
    const miss = (a: { totalPredicted: number; totalActual: number }) => Math.abs(a.totalPredicted / a.totalActual - 1);
    expect(miss(p.model)).toBeLessThan(0.15);
    expect(miss(p.model)).toBeLessThan(miss(p.heuristic));
    expect(p.model.meanAbsoluteError).toBeLessThan(p.heuristic.meanAbsoluteError);
    expect(p.model.spearman as number).toBeGreaterThan(p.heuristic.spearman as number);
    expect(p.model.pearson as number).toBeGreaterThan(p.heuristic.pearson as number);
    const r = c.revenue!;
    expect(miss(r.model)).toBeLessThan(miss(r.heuristic));
    expect(r.model.spearman as number).toBeGreaterThan(r.heuristic.spearman as number);
    expect(r.model.pearson as number).toBeGreaterThan(r.heuristic.pearson as number);
    // Revenue MAE is dominated by a few large baskets: about equal here (measured 20,960 vs 20,979).
    expect(r.model.meanAbsoluteError).toBeLessThan(r.heuristic.meanAbsoluteError * 1.01);
  });
});
