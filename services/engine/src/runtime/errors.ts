import { ErrorCodes, NextActError } from '@nextact/core';

/** The task was released (revoked, fenced or aborted) before it could process the batch. */
export class TaskReleasedError extends NextActError {
  constructor(partition: number, reason: string) {
    super(ErrorCodes.KAFKA, `partition ${partition} task was released (${reason}); the batch will be re-delivered`, { retriable: true });
    this.name = 'TaskReleasedError';
  }
}

/** The batch's partition was reassigned while it ran: its results must not commit. */
export class StaleBatchError extends NextActError {
  constructor(partition: number) {
    super(ErrorCodes.KAFKA, `partition ${partition} was reassigned while its batch ran; not committing`, { retriable: true });
    this.name = 'StaleBatchError';
  }
}

/**
 * Whether a transaction failed because another producer with the same transactional id took over
 * (the partition moved to another instance): this instance must give the partition up.
 */
export function isFenced(err: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const e = current as { type?: unknown; name?: unknown; message?: unknown; details?: unknown; cause?: unknown; originalError?: unknown };
    const details = e.details as { type?: unknown } | undefined;
    const text = [e.type, e.name, e.message, details?.type].filter((x) => typeof x === 'string').join(' ');
    if (/PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|ProducerFenced|fenced/i.test(text)) return true;
    current = e.cause ?? e.originalError;
  }
  return false;
}
