/** The engine's Prometheus series; names are fixed because dashboards query them. */
import { deadLetterCounter, latencyBuckets } from '@nextact/core';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { GlobalTableMetrics } from './global-table';

export class EngineMetrics {
  readonly events: Counter<'type'>;
  readonly decisions: Counter<'action' | 'arm' | 'deliver'>;
  readonly gateResults: Counter<'gate' | 'result'>;
  readonly decisionLatency: Histogram;
  readonly consumerLag: Gauge<'partition'>;
  readonly stateJourneys: Gauge<'partition'>;
  readonly restoreDuration: Histogram;
  readonly restoredRecords: Counter;
  readonly transactions: Counter<'result'>;
  readonly transactionDuration: Histogram;
  readonly transactionRecords: Histogram;
  readonly deadLetters: Counter<'reason'>;
  readonly ownedPartitions: Gauge;
  readonly timersFired: Counter;
  /** The side inputs' global tables (runtime/global-table.ts). */
  readonly globalTables: GlobalTableMetrics;
  /** Set by the running engine: brings the lag gauge up to date before a scrape. */
  refreshLag?: () => Promise<void>;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.events = new Counter({ name: 'nextact_engine_events_total', help: 'Customer events applied, by record name.', labelNames: ['type'], registers });
    this.decisions = new Counter({
      name: 'nextact_engine_decisions_total',
      help: 'Committed decisions by action, experiment arm and whether they are delivered.',
      labelNames: ['action', 'arm', 'deliver'],
      registers,
    });
    this.gateResults = new Counter({
      name: 'nextact_engine_gate_results_total',
      help: 'Gate outcomes found in committed decisions’ reason codes.',
      labelNames: ['gate', 'result'],
      registers,
    });
    this.decisionLatency = new Histogram({
      name: 'nextact_engine_decision_latency_seconds',
      help: 'Wall clock from the triggering record’s Kafka timestamp to the commit of its decision.',
      buckets: latencyBuckets,
      registers,
    });
    const metrics = this;
    this.consumerLag = new Gauge({
      name: 'nextact_engine_consumer_lag',
      help: 'Consumer-group lag on customer-events per partition, from the broker: log-end offset minus the group’s committed offset. Every instance reports every partition.',
      labelNames: ['partition'],
      registers,
      async collect() {
        await metrics.refreshLag?.();
      },
    });
    this.stateJourneys = new Gauge({ name: 'nextact_engine_state_journeys', help: 'Journeys held per owned partition.', labelNames: ['partition'], registers });
    this.restoreDuration = new Histogram({
      name: 'nextact_engine_restore_duration_seconds',
      help: 'Time to restore a partition’s state (from its store’s changelog offset, or the changelog’s start).',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.restoredRecords = new Counter({ name: 'nextact_engine_restored_records_total', help: 'Changelog records read by restores.', registers });
    this.transactions = new Counter({ name: 'nextact_engine_transactions_total', help: 'Batch transactions by result.', labelNames: ['result'], registers });
    this.transactionDuration = new Histogram({
      name: 'nextact_engine_transaction_duration_seconds',
      help: 'Wall clock of one instance transaction, from its start to its commit or abort (the round trips of the send, the offset commit and the end).',
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.transactionRecords = new Histogram({
      name: 'nextact_engine_transaction_records',
      help: 'Output records (changelog, decisions, dead letters) per instance transaction.',
      buckets: [1, 10, 50, 100, 500, 1_000, 2_500, 5_000, 10_000],
      registers,
    });
    this.deadLetters = deadLetterCounter(registry);
    this.ownedPartitions = new Gauge({ name: 'nextact_engine_owned_partitions', help: 'Input partitions assigned to this instance.', registers });
    this.timersFired = new Counter({ name: 'nextact_engine_timers_fired_total', help: 'Journey timers fired by stream time.', registers });
    this.globalTables = new GlobalTableMetrics(registry);
  }

  /** Forgets a released partition's per-partition series (lag stays: it is the group's, not the owner's). */
  dropPartition(partition: number): void {
    this.stateJourneys.remove({ partition: String(partition) });
  }
}

/**
 * Gate outcomes from reason codes such as `GATE_CONSENT_FAILED:EMAIL` or `GATE_FREQUENCY_PASSED`.
 * A `GATE_<X>` code without a result word counts as failed (gates report what stopped a decision).
 */
export function gateResults(reasonCodes: readonly string[]): { gate: string; result: string }[] {
  const out: { gate: string; result: string }[] = [];
  for (const code of reasonCodes) {
    if (!code.startsWith('GATE_')) continue;
    const head = code.split(':', 1)[0]!.slice('GATE_'.length);
    const m = /^(.+?)_(FAILED|FAIL|BLOCKED|PASSED|PASS|OK)$/.exec(head);
    if (m) out.push({ gate: m[1]!.toLowerCase(), result: /^(PASSED|PASS|OK)$/.test(m[2]!) ? 'passed' : 'failed' });
    else if (head) out.push({ gate: head.toLowerCase(), result: 'failed' });
  }
  return out;
}
