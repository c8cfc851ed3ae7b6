/** Every customer's future under a fitted model, streamed from the summaries (no customer limit). */
import type { CustomerFuturesModel } from '@nextact/core';
import { customerFuture, parametersOf } from '@nextact/core/src/models';
import type { ClickHouse } from '../store/clickhouse';
import { summariesView } from './fit';

export interface CustomerFutureRow {
  customerId: string;
  /** Repeat purchase days. */
  x: number;
  /** Days from the first purchase day to the last. */
  tx: number;
  /** Days from the first purchase day to as-of. */
  T: number;
  meanSpendMinor: number;
  realisedMinor: number;
  pAlive: number;
  expectedPurchases: number;
  expectedSpendMinor: number | null;
  clvMinor: number | null;
}

interface SummaryRow {
  customer_id: string;
  x: number;
  t_x: number;
  T: number;
  mean_spend: number;
  revenue_minor: number | string;
}

/** Customers in id order; the store streams them, so memory stays flat for any number. */
export async function* customerFutures(store: ClickHouse, model: CustomerFuturesModel): AsyncGenerator<CustomerFutureRow> {
  const params = parametersOf(model);
  const view = summariesView(store);
  const rs = await store.client.query({
    query: `SELECT customer_id, x, t_x, T, mean_spend, revenue_minor FROM ${view} ORDER BY customer_id`,
    query_params: { asOf: model.asOf },
    format: 'JSONEachRow',
  });
  for await (const rows of rs.stream<SummaryRow>()) {
    for (const row of rows) {
      const r = row.json();
      const x = Number(r.x);
      const summary = { x, tx: Number(r.t_x), T: Number(r.T), meanSpend: Number(r.mean_spend) };
      const f = customerFuture(params, summary);
      yield {
        customerId: r.customer_id,
        x,
        tx: summary.tx,
        T: summary.T,
        meanSpendMinor: summary.meanSpend,
        realisedMinor: Number(r.revenue_minor),
        pAlive: f.pAlive,
        expectedPurchases: f.expectedPurchases,
        expectedSpendMinor: f.expectedSpend,
        clvMinor: f.clv,
      };
    }
  }
}
