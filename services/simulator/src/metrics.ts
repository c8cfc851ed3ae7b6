import { createMetricsRegistry } from '@nextact/core';
import { Counter, Gauge, type Registry } from 'prom-client';

/** The simulator's Prometheus series (registry per service, `service="simulator"` on each). */
export function createSimulatorMetrics(registry: Registry = createMetricsRegistry('simulator')) {
  return {
    registry,
    events: new Counter({
      name: 'nextact_simulator_events_total',
      help: 'Events delivered to the sink, by type (browse, chat, purchase, survey, outcome, consent).',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    outcomes: new Counter({
      name: 'nextact_simulator_outcomes_total',
      help: 'Action outcomes produced in response to decisions, by outcome kind.',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'nextact_simulator_decisions_total',
      help: 'Decisions read from the decisions topic, by whether they were to be delivered.',
      labelNames: ['deliver'] as const,
      registers: [registry],
    }),
    simTime: new Gauge({
      name: 'nextact_simulator_sim_time_seconds',
      help: 'Simulated clock (epoch seconds) of the latest generated event.',
      registers: [registry],
    }),
  };
}

export type SimulatorMetrics = ReturnType<typeof createSimulatorMetrics>;
