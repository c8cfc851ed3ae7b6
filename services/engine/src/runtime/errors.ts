import { ErrorCodes, isFencedError, NextActError } from '@nextact/core';

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
 * Whether this instance lost the right to commit for the partition: its transactional producer was
 * fenced by the partition's new owner, or (KIP-447) its group generation is stale. Recognised by the
 * port's NXA code, never by a client's error text.
 */
export const isFenced = isFencedError;
