import { batchBuckets, deadLetterCounter, latencyBuckets } from '@nextact/core';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { SinkTable } from '../store/rows';

/** The analytics sink's series. Names are part of the contract with the dashboards: do not rename. */
export function createSinkMetrics(registry: Registry) {
  const rows = new Counter({
    name: 'nextact_sink_rows_total',
    help: 'Rows acknowledged by ClickHouse, by table (a re-inserted batch that ClickHouse deduplicated counts again).',
    labelNames: ['table'],
    registers: [registry],
  });
  const batchRows = new Histogram({
    name: 'nextact_sink_batch_rows',
    help: 'Rows per insert batch.',
    buckets: batchBuckets,
    registers: [registry],
  });
  const insertDuration = new Histogram({
    name: 'nextact_sink_insert_duration_seconds',
    help: 'Time for ClickHouse to acknowledge one batch insert.',
    buckets: latencyBuckets,
    registers: [registry],
  });
  const insertErrors = new Counter({
    name: 'nextact_sink_insert_errors_total',
    help: 'Failed insert attempts (each is retried with the same deduplication token), by table.',
    labelNames: ['table'],
    registers: [registry],
  });
  const lag: { refresh?: () => Promise<void> } = {};
  const consumerLag = new Gauge({
    name: 'nextact_sink_consumer_lag',
    help: 'Consumer-group lag per topic-partition, from the broker: log-end offset minus the sink group’s committed offset.',
    labelNames: ['topic', 'partition'],
    registers: [registry],
    async collect() {
      await lag.refresh?.();
    },
  });
  const deadLetters = deadLetterCounter(registry);
  const recoveredBatches = new Counter({
    name: 'nextact_sink_recovered_batches_total',
    help: 'Batches found BEFORE at start and re-inserted with their original deduplication token.',
    registers: [registry],
  });
  // Zero series exist from the start so rate() and alerts work before the first event.
  for (const table of ['events', 'decisions'] satisfies SinkTable[]) {
    rows.inc({ table }, 0);
    insertErrors.inc({ table }, 0);
  }
  // lag.refresh is set by the running sink: brings the lag gauge up to date before a scrape.
  return { rows, batchRows, insertDuration, insertErrors, consumerLag, lag, deadLetters, recoveredBatches };
}

export type SinkMetrics = ReturnType<typeof createSinkMetrics>;
