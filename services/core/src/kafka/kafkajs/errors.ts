/**
 * kafkajs errors to the port's stable codes. The only place kafkajs error types, names or text
 * are read: everything outside the adapter branches on `NextActError.code`.
 */
import { type ErrorCode, ErrorCodes, errorMessage, NextActError } from '../../errors';
import { BROKER_ERROR_CODES, RETRIABLE_CODES } from '../broker-errors';

/** kafkajs error class names without a broker type. */
const BY_NAME: Record<string, ErrorCode> = {
  KafkaJSConnectionError: ErrorCodes.KAFKA_UNAVAILABLE,
  KafkaJSConnectionClosedError: ErrorCodes.KAFKA_UNAVAILABLE,
  KafkaJSBrokerNotFound: ErrorCodes.KAFKA_UNAVAILABLE,
  KafkaJSRequestTimeoutError: ErrorCodes.TIMEOUT,
  KafkaJSTimeout: ErrorCodes.TIMEOUT,
  KafkaJSSASLAuthenticationError: ErrorCodes.KAFKA_AUTH,
  KafkaJSGroupCoordinatorNotFound: ErrorCodes.KAFKA_COORDINATOR_MOVED,
};

// kafkajs calls a fenced producer's INVALID_PRODUCER_EPOCH non-retriable, rightly; these codes never are.
const NEVER_RETRIABLE = new Set<ErrorCode>([ErrorCodes.KAFKA_FENCED, ErrorCodes.KAFKA_STALE_MEMBER, ErrorCodes.KAFKA_RECORD_TOO_LARGE, ErrorCodes.KAFKA_AUTH]);

interface KafkajsLike {
  type?: unknown;
  name?: unknown;
  message?: unknown;
  retriable?: unknown;
  originalError?: unknown;
  cause?: unknown;
}

/** The most specific port code on the kafkajs error or what it wraps (retries-exceeded and non-retriable wrappers). */
export function classify(err: unknown): { code: ErrorCode; retriable: boolean; type?: string } {
  const seen = new Set<unknown>();
  let retriable = typeof err === 'object' && err !== null && Boolean((err as KafkajsLike).retriable);
  let current: unknown = err;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    if (current instanceof NextActError) return { code: current.code, retriable: current.retriable };
    const e = current as KafkajsLike;
    const type = typeof e.type === 'string' ? e.type : undefined;
    const code = (type && BROKER_ERROR_CODES[type]) || (typeof e.name === 'string' ? BY_NAME[e.name] : undefined) || byText(e.message);
    if (code) {
      if (RETRIABLE_CODES.has(code)) retriable = true;
      if (NEVER_RETRIABLE.has(code)) retriable = false;
      return { code, retriable, type };
    }
    current = e.originalError ?? e.cause;
  }
  return { code: ErrorCodes.KAFKA, retriable };
}

/** Client-side checks kafkajs reports only in text. */
function byText(message: unknown): ErrorCode | undefined {
  if (typeof message !== 'string') return undefined;
  if (/must have no running instances/i.test(message)) return ErrorCodes.KAFKA_GROUP_NOT_EMPTY;
  if (/producer.*fenced|fenced.*producer/i.test(message)) return ErrorCodes.KAFKA_FENCED;
  if (/does not host this topic-partition|unknown topic/i.test(message)) return ErrorCodes.KAFKA_UNKNOWN_TOPIC;
  return undefined;
}

/** Wraps any kafkajs failure as a NextActError with the port's code (NextActErrors pass through). */
export function portError(err: unknown, what: string): NextActError {
  if (err instanceof NextActError) return err;
  const { code, retriable, type } = classify(err);
  return new NextActError(code, `${what}: ${errorMessage(err)}`, { retriable, cause: err, details: type ? { type } : undefined });
}
