import type { ConsumedRecord, OutgoingRecord } from './kafka/port';

/**
 * The one shape of a dead letter: the original key, value and headers, untouched, plus why and
 * where it came from, so it can be inspected and replayed. `partition` keeps it co-located with
 * its source when a transaction writes it.
 */
export function deadLetterRecord(deadLetterTopic: string, record: ConsumedRecord, reason: string, error: string, partition?: number): OutgoingRecord {
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
    },
  };
}
