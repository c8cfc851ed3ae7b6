import { Counter, type Registry } from 'prom-client';
import type { ConsumedRecord, OutgoingRecord } from './kafka/port';

/**
 * Why a record went to the dead-letter topic: the `dlq-reason` header and the `reason` label of
 * `nextact_dead_letters_total`, one set for every consumer (engine and sink alike).
 */
export const deadLetterReasons = [
  /** The value is not Confluent-framed Avro, names a schema id the registry does not know, or does not decode with it. */
  'decode-failed',
  /** A well-formed record of a type that does not belong on the topic. */
  'unknown-record',
  /** Record key and customer id differ: state for another partition's key must not live here. */
  'key-mismatch',
  /** A customer id the runtime reserves for its own changelog keys. */
  'reserved-key',
  /** The decision domain threw on the record. */
  'processing-failed',
  /** A decision the engine made does not encode with the Decision schema. */
  'decision-invalid',
  /** A record that decodes but does not fit its ClickHouse table (a value outside the column's range). */
  'unmappable',
] as const;
export type DeadLetterReason = (typeof deadLetterReasons)[number];

/** The one dead-letter counter; every reason's series exists from the start so rate() and alerts work before the first. */
export function deadLetterCounter(registry: Registry): Counter<'reason'> {
  const counter = new Counter({
    name: 'nextact_dead_letters_total',
    help: 'Records sent to the dead-letter topic, by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of deadLetterReasons) counter.inc({ reason }, 0);
  return counter;
}

/**
 * The one shape of a dead letter: the original key, value and headers, untouched, plus why and
 * where it came from and which consumer group refused it (`dlq-consumer`: the engine and the sink
 * read the same topics), so it can be inspected and replayed. `partition` keeps it co-located with
 * its source when a transaction writes it.
 */
export function deadLetterRecord(
  deadLetterTopic: string,
  record: ConsumedRecord,
  reason: DeadLetterReason,
  error: string,
  consumer: string,
  partition?: number,
): OutgoingRecord {
  return {
    topic: deadLetterTopic,
    key: record.key ?? '',
    partition,
    value: record.value,
    headers: {
      ...record.headers,
      'dlq-reason': reason,
      'dlq-error': error.slice(0, 1000),
      'dlq-source-topic': record.topic,
      'dlq-source-partition': String(record.partition),
      'dlq-source-offset': record.offset,
      'dlq-consumer': consumer,
    },
  };
}
