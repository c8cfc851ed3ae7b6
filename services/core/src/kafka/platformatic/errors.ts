/**
 * @platformatic/kafka errors to the port's stable codes. The only place that client's error
 * classes and broker error names are read: everything outside the adapter branches on
 * `NextActError.code`.
 */
import { type ErrorCode, ErrorCodes, errorMessage, NextActError } from '../../errors';

/** Kafka's own error names (platformatic `ProtocolError.apiId`) per port code. */
const BY_API_ID: Record<string, ErrorCode> = {
  PRODUCER_FENCED: ErrorCodes.KAFKA_FENCED,
  INVALID_PRODUCER_EPOCH: ErrorCodes.KAFKA_FENCED,
  TRANSACTIONAL_ID_NOT_FOUND: ErrorCodes.KAFKA_FENCED,
  ILLEGAL_GENERATION: ErrorCodes.KAFKA_STALE_MEMBER,
  UNKNOWN_MEMBER_ID: ErrorCodes.KAFKA_STALE_MEMBER,
  FENCED_INSTANCE_ID: ErrorCodes.KAFKA_STALE_MEMBER,
  REBALANCE_IN_PROGRESS: ErrorCodes.KAFKA_REBALANCE_IN_PROGRESS,
  NOT_COORDINATOR: ErrorCodes.KAFKA_COORDINATOR_MOVED,
  COORDINATOR_NOT_AVAILABLE: ErrorCodes.KAFKA_COORDINATOR_MOVED,
  COORDINATOR_LOAD_IN_PROGRESS: ErrorCodes.KAFKA_COORDINATOR_MOVED,
  CONCURRENT_TRANSACTIONS: ErrorCodes.KAFKA_CONCURRENT_TRANSACTIONS,
  UNKNOWN_TOPIC_OR_PARTITION: ErrorCodes.KAFKA_UNKNOWN_TOPIC,
  UNKNOWN_TOPIC_ID: ErrorCodes.KAFKA_UNKNOWN_TOPIC,
  MESSAGE_TOO_LARGE: ErrorCodes.KAFKA_RECORD_TOO_LARGE,
  RECORD_LIST_TOO_LARGE: ErrorCodes.KAFKA_RECORD_TOO_LARGE,
  REQUEST_TIMED_OUT: ErrorCodes.TIMEOUT,
  LEADER_NOT_AVAILABLE: ErrorCodes.KAFKA_UNAVAILABLE,
  NOT_LEADER_OR_FOLLOWER: ErrorCodes.KAFKA_UNAVAILABLE,
  BROKER_NOT_AVAILABLE: ErrorCodes.KAFKA_UNAVAILABLE,
  NETWORK_EXCEPTION: ErrorCodes.KAFKA_UNAVAILABLE,
  SASL_AUTHENTICATION_FAILED: ErrorCodes.KAFKA_AUTH,
  TOPIC_AUTHORIZATION_FAILED: ErrorCodes.KAFKA_AUTH,
  GROUP_AUTHORIZATION_FAILED: ErrorCodes.KAFKA_AUTH,
  CLUSTER_AUTHORIZATION_FAILED: ErrorCodes.KAFKA_AUTH,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: ErrorCodes.KAFKA_AUTH,
  NON_EMPTY_GROUP: ErrorCodes.KAFKA_GROUP_NOT_EMPTY,
};

/** The client's own error codes (`GenericError.code`) without a broker error name. */
const BY_CLIENT_CODE: Record<string, ErrorCode> = {
  PLT_KFK_NETWORK: ErrorCodes.KAFKA_UNAVAILABLE,
  PLT_KFK_TIMEOUT: ErrorCodes.TIMEOUT,
  PLT_KFK_AUTHENTICATION: ErrorCodes.KAFKA_AUTH,
};

const RETRIABLE = new Set<ErrorCode>([
  ErrorCodes.KAFKA_REBALANCE_IN_PROGRESS,
  ErrorCodes.KAFKA_COORDINATOR_MOVED,
  ErrorCodes.KAFKA_CONCURRENT_TRANSACTIONS,
  ErrorCodes.KAFKA_UNAVAILABLE,
  ErrorCodes.TIMEOUT,
]);

interface PlatformaticLike {
  code?: unknown;
  apiId?: unknown;
  canRetry?: unknown;
  errors?: unknown;
  cause?: unknown;
}

/** The most specific port code on the error, the errors it aggregates, or its causes. */
export function classify(err: unknown): { code: ErrorCode; retriable: boolean; apiId?: string } {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  let fallback: { code: ErrorCode; retriable: boolean } | undefined;
  while (queue.length > 0) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    if (current instanceof NextActError) return { code: current.code, retriable: current.retriable };
    const e = current as PlatformaticLike;
    const apiId = typeof e.apiId === 'string' ? e.apiId : undefined;
    const byApi = apiId ? BY_API_ID[apiId] : undefined;
    if (byApi) return { code: byApi, retriable: RETRIABLE.has(byApi), apiId };
    const byClient = typeof e.code === 'string' ? BY_CLIENT_CODE[e.code] : undefined;
    if (byClient && !fallback) fallback = { code: byClient, retriable: RETRIABLE.has(byClient) };
    if (Array.isArray(e.errors)) queue.push(...e.errors);
    if (e.cause) queue.push(e.cause);
  }
  return fallback ?? { code: ErrorCodes.KAFKA, retriable: false };
}

/** Wraps any @platformatic/kafka failure as a NextActError with the port's code (NextActErrors pass through). */
export function portError(err: unknown, what: string): NextActError {
  if (err instanceof NextActError) return err;
  const { code, retriable, apiId } = classify(err);
  return new NextActError(code, `${what}: ${errorMessage(err)}`, { retriable, cause: err, details: apiId ? { apiId } : undefined });
}

/** Whether the error (or one it aggregates or wraps) is the broker error `apiId` (Kafka's name for it). */
export function hasApiId(err: unknown, apiId: string): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const e = current as PlatformaticLike;
    if (e.apiId === apiId) return true;
    if (Array.isArray(e.errors)) queue.push(...e.errors);
    if (e.cause) queue.push(e.cause);
  }
  return false;
}
