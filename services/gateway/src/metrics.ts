import { batchBuckets, latencyBuckets } from '@nextact/core';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Why the gateway refused events; the `reason` label of the rejected counter. */
export type RejectReason = 'validation' | 'bad_json' | 'unsupported_media_type' | 'too_large' | 'unauthorized' | 'backpressure' | 'kafka_error';

export const rejectReasons: RejectReason[] = ['validation', 'bad_json', 'unsupported_media_type', 'too_large', 'unauthorized', 'backpressure', 'kafka_error'];

/** The gateway's series. Names are part of the contract with the dashboards: do not rename. */
export function createGatewayMetrics(registry: Registry) {
  const accepted = new Counter({
    name: 'nextact_gateway_events_accepted_total',
    help: 'Events acknowledged by Kafka and answered 202, by event type.',
    labelNames: ['type'],
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'nextact_gateway_events_rejected_total',
    help: 'Events refused, by reason (one per request when the events could not be counted).',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Zero series exist from the start so rate() and alerts work before the first refusal.
  for (const reason of rejectReasons) rejected.inc({ reason }, 0);
  const produceDuration = new Histogram({
    name: 'nextact_gateway_produce_duration_seconds',
    help: 'Time from handing a batch to the producer until all in-sync replicas acknowledged it.',
    buckets: latencyBuckets,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'nextact_gateway_batch_size',
    help: 'Records per Kafka send.',
    buckets: batchBuckets,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'nextact_gateway_in_flight_events',
    help: 'Events queued for Kafka or awaiting broker acks.',
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: 'nextact_http_requests_total',
    help: 'HTTP requests answered by the gateway routes, by route and status.',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  const erasures = new Counter({
    name: 'nextact_gateway_erasures_requested_total',
    help: 'Erasure requests acknowledged by Kafka (customer ids are never labels).',
    registers: [registry],
  });
  return { accepted, rejected, produceDuration, batchSize, inFlight, httpRequests, erasures };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
