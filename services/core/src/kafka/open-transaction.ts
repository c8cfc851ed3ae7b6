import { ErrorCodes, NextActError } from '../errors';

/** How long a range read waits for an open transaction below its end by default (see KafkaClient.readPartitions). */
export const OPEN_TRANSACTION_WAIT_MS = 75_000;

/** The one error of a range read that waited too long for an open transaction (every adapter throws it). */
export function openTransactionError(topic: string, partition: number, at: string, until: string, waitedMs: number): NextActError {
  return new NextActError(
    ErrorCodes.KAFKA_OPEN_TRANSACTION,
    `reading ${topic}[${partition}] up to ${until}: an open transaction has held the last stable offset at ${at} for ${waitedMs} ms; it ends when its producer commits or the broker aborts it at its transaction timeout`,
    { retriable: true },
  );
}
