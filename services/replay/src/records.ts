/**
 * Customer events as the engine sees them. A record the engine dead-letters (does not decode, is
 * not a customer event, uses a reserved key, key is not the customer id) is skipped here for the
 * same reasons, so a replay folds exactly the events the live engine applied.
 */
import { type ConsumedRecord, type CustomerEvent, customerEventNames, ErrorCodes, NextActError, type RecordCodec } from '@nextact/core';
import { isReservedKey } from './fold';

const eventNames = new Set<string>(customerEventNames);

export type SkipReason = 'decode-failed' | 'unknown-record' | 'reserved-key' | 'key-mismatch';

export type Replayed = { event: CustomerEvent } | { skipped: SkipReason };

export async function customerEventOf(codec: RecordCodec, record: ConsumedRecord): Promise<Replayed> {
  let decoded: Awaited<ReturnType<RecordCodec['decode']>>;
  try {
    decoded = await codec.decode(record.value);
  } catch (err) {
    // Registry trouble is retriable and must stop the replay (never silently drop valid data).
    if (err instanceof NextActError && err.code === ErrorCodes.DECODE && !err.retriable) return { skipped: 'decode-failed' };
    throw err;
  }
  if (!eventNames.has(decoded.name)) return { skipped: 'unknown-record' };
  const event = { name: decoded.name, value: decoded.value } as CustomerEvent;
  const customerId = event.value.customerId;
  if (isReservedKey(customerId)) return { skipped: 'reserved-key' };
  if (record.key !== customerId) return { skipped: 'key-mismatch' };
  return { event };
}
