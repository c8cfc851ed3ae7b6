/**
 * kafkajs errors to the port's stable codes. The only place kafkajs error types, names or text
 * are read: everything outside the adapter branches on `NextActError.code`.
 */
import { type ErrorCode, ErrorCodes, errorMessage, NextActError } from '../../errors';

/** Broker error types (kafkajs `KafkaJSProtocolError.type`, Kafka's own names) per port code. */
const BY_TYPE: Record<string, ErrorCode> = {
  PRODUCER_FENCED: ErrorCodes.KAFKA_FENCED,
  INVALID_PRODUCER_EPOCH: ErrorCodes.KAFKA_FENCED,
  TRANSACTIONAL_ID_NOT_FOUND: ErrorCodes.KAFKA_FENCED,
  ILLEGAL_GENERATION: ErrorCodes.KAFKA_STALE_MEMBER,
  UNKNOWN_MEMBER_ID: ErrorCodes.KAFKA_STALE_MEMBER,
  FENCED_INSTANCE_ID: ErrorCodes.KAFKA_STALE_MEMBER,
  REBALANCE_IN_PROGRESS: ErrorCodes.KAFKA_REBALANCE_IN_PROGRESS,
  NOT_COORDINATOR: ErrorCodes.KAFKA_COORDINATOR_MOVED,
  NOT_COORDINATOR_FOR_GROUP: ErrorCodes.KAFKA_COORDINATOR_MOVED,
  COORDINATOR_NOT_AVAILABLE: ErrorCodes.KAFKA_COORDINATOR_MOVED,
  GROUP_COORDINATOR_NOT_AVAILABLE: ErrorCodes.KAFKA_COORDINATOR_MOVED,
  COORDINATOR_LOAD_IN_PROGRESS: ErrorCodes.KAFKA_COORDINATOR_MOVED,
  GROUP_LOAD_IN_PROGRESS: ErrorCodes.KAFKA_COORDINATOR_MOVED,
  CONCURRENT_TRANSACTIONS: ErrorCodes.KAFKA_CONCURRENT_TRANSACTIONS,
  UNKNOWN_TOPIC_OR_PARTITION: ErrorCodes.KAFKA_UNKNOWN_TOPIC,
  MESSAGE_TOO_LARGE: ErrorCodes.KAFKA_RECORD_TOO_LARGE,
  RECORD_LIST_TOO_LARGE: ErrorCodes.KAFKA_RECORD_TOO_LARGE,
  REQUEST_TIMED_OUT: ErrorCodes.TIMEOUT,
  LEADER_NOT_AVAILABLE: ErrorCodes.KAFKA_UNAVAILABLE,
  NOT_LEADER_FOR_PARTITION: ErrorCodes.KAFKA_UNAVAILABLE,
  BROKER_NOT_AVAILABLE: ErrorCodes.KAFKA_UNAVAILABLE,
  NETWORK_EXCEPTION: ErrorCodes.KAFKA_UNAVAILABLE,
  SASL_AUTHENTICATION_FAILED: ErrorCodes.KAFKA_AUTH,
  TOPIC_AUTHORIZATION_FAILED: ErrorCodes.KAFKA_AUTH,
  GROUP_AUTHORIZATION_FAILED: ErrorCodes.KAFKA_AUTH,
  CLUSTER_AUTHORIZATION_FAILED: ErrorCodes.KAFKA_AUTH,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: ErrorCodes.KAFKA_AUTH,
  NON_EMPTY_GROUP: ErrorCodes.KAFKA_GROUP_NOT_EMPTY,
};

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

/** Codes a retry can fix, whatever kafkajs said (it calls a fenced producer's INVALID_PRODUCER_EPOCH non-retriable, rightly). */
const RETRIABLE = new Set<ErrorCode>([
  ErrorCodes.KAFKA_REBALANCE_IN_PROGRESS,
  ErrorCodes.KAFKA_COORDINATOR_MOVED,
  ErrorCodes.KAFKA_CONCURRENT_TRANSACTIONS,
  ErrorCodes.KAFKA_UNAVAILABLE,
  ErrorCodes.TIMEOUT,
]);
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
    const code = (type && BY_TYPE[type]) || (typeof e.name === 'string' ? BY_NAME[e.name] : undefined) || byText(e.message);
    if (code) {
      if (RETRIABLE.has(code)) retriable = true;
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
