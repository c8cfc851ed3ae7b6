import { randomUUID } from 'node:crypto';
import { type FieldError, type OutgoingRecord, type RecordTypes, ValidationError, validateRecord } from '@nextact/core';
import type { EventEncoder } from './gateway';

export type ErasureRequest = RecordTypes['nextact.ErasureRequest'];

/** The event time of every erasure request: the earliest accepted, so it never moves stream time (see the schema). */
export const ERASURE_EVENT_TIME = Date.UTC(2000, 0, 1);

export interface ErasureAsk {
  customerId: string;
  /** Who asks: an operator or the API caller's label. Kept in the erasure record. */
  requestedBy: string;
  reason?: string | null;
  source: 'cli' | 'api';
  /** Defaults to a fresh UUID; a retry with the same id is applied once (the engine and the sink key on it). */
  eventId?: string;
  now?: number;
}

/**
 * The erasure request as it goes on the customer's own partition of the customer-events topic
 * (key = customer id), behind every earlier event of that customer: the engine and the sink apply
 * it in order, in their normal transactions, and a replay meets it at the same place.
 */
export function erasureRequest(ask: ErasureAsk): ErasureRequest {
  const problems: FieldError[] = [];
  if (typeof ask.requestedBy !== 'string' || ask.requestedBy.trim() === '' || ask.requestedBy.length > 128) {
    problems.push({
      field: 'requestedBy',
      expected: 'non-empty string of at most 128 characters',
      received: JSON.stringify(ask.requestedBy) ?? 'nothing (missing)',
    });
  }
  if (ask.reason !== undefined && ask.reason !== null && (typeof ask.reason !== 'string' || ask.reason.length > 512)) {
    problems.push({
      field: 'reason',
      expected: 'string of at most 512 characters or null',
      received: JSON.stringify(ask.reason)?.slice(0, 80) ?? typeof ask.reason,
    });
  }
  if (problems.length > 0) throw new ValidationError(`erasure request invalid: ${problems.map((p) => p.field).join(', ')}`, problems);
  return validateRecord('nextact.ErasureRequest', {
    eventId: ask.eventId ?? `erasure-${randomUUID()}`,
    customerId: ask.customerId,
    eventTime: ERASURE_EVENT_TIME,
    requestedAt: ask.now ?? Date.now(),
    source: ask.source,
    requestedBy: ask.requestedBy.trim(),
    reason: ask.reason ?? null,
  });
}

export function erasureRecord(codec: EventEncoder, topic: string, request: ErasureRequest): OutgoingRecord {
  return {
    topic,
    key: request.customerId,
    value: codec.encode(topic, 'nextact.ErasureRequest', request),
    headers: { 'event-type': 'nextact.ErasureRequest', 'event-id': request.eventId },
  };
}
