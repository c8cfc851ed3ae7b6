import { collectDefaultMetrics, Registry } from 'prom-client';

/** A registry per service, with process metrics and a `service` label on every series. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Latency buckets (seconds) from 1 ms to 10 s, fine enough for p50/p99 of sub-10 ms paths. */
export const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Size buckets for batches (records per batch). */
export const batchBuckets = [1, 5, 10, 50, 100, 500, 1000, 5000, 10000, 50000];
