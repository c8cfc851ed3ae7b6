/**
 * Stable error codes. Callers branch on `code` and `retriable`, never on messages,
 * so messages can improve without breaking anyone.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'NXA_CONFIG_INVALID',
  VALIDATION: 'NXA_VALIDATION',
  UNKNOWN_EVENT_TYPE: 'NXA_UNKNOWN_EVENT_TYPE',
  PAYLOAD_TOO_LARGE: 'NXA_PAYLOAD_TOO_LARGE',
  UNAUTHORIZED: 'NXA_UNAUTHORIZED',
  RATE_LIMITED: 'NXA_RATE_LIMITED',
  BACKPRESSURE: 'NXA_BACKPRESSURE',
  /** Kafka trouble without a more precise code below; `retriable` as the client judged it. */
  KAFKA: 'NXA_KAFKA',
  /** A newer producer with the same transactional id took over (its init bumped the epoch): this one can only close. */
  KAFKA_FENCED: 'NXA_KAFKA_FENCED',
  /** The group coordinator refused a commit from a member that was rebalanced away (generation or member id stale, KIP-447). */
  KAFKA_STALE_MEMBER: 'NXA_KAFKA_STALE_MEMBER',
  /** The group is rebalancing: retry after the rejoin. */
  KAFKA_REBALANCE_IN_PROGRESS: 'NXA_KAFKA_REBALANCE_IN_PROGRESS',
  /** The group or transaction coordinator moved or is loading: retry once it is found again. */
  KAFKA_COORDINATOR_MOVED: 'NXA_KAFKA_COORDINATOR_MOVED',
  /** A previous transaction of this producer is still completing on the broker: retry shortly. */
  KAFKA_CONCURRENT_TRANSACTIONS: 'NXA_KAFKA_CONCURRENT_TRANSACTIONS',
  /** No such topic or partition (yet: Kafka reports it as retriable while metadata propagates). */
  KAFKA_UNKNOWN_TOPIC: 'NXA_KAFKA_UNKNOWN_TOPIC',
  /** A record or batch over the broker's message.max.bytes. */
  KAFKA_RECORD_TOO_LARGE: 'NXA_KAFKA_RECORD_TOO_LARGE',
  /** No broker reachable (connection refused, closed, leader not available). */
  KAFKA_UNAVAILABLE: 'NXA_KAFKA_UNAVAILABLE',
  /** Authentication or authorisation refused (SASL, ACLs). */
  KAFKA_AUTH: 'NXA_KAFKA_AUTH',
  /** The group has active members, so its offsets cannot be set or the group deleted. */
  KAFKA_GROUP_NOT_EMPTY: 'NXA_KAFKA_GROUP_NOT_EMPTY',
  /**
   * A read_committed range read waited too long for an open transaction below its end (typically a
   * killed producer's, until the broker aborts it at its transaction timeout): retriable.
   */
  KAFKA_OPEN_TRANSACTION: 'NXA_KAFKA_OPEN_TRANSACTION',
  REGISTRY: 'NXA_REGISTRY',
  SCHEMA_INCOMPATIBLE: 'NXA_SCHEMA_INCOMPATIBLE',
  DECODE: 'NXA_DECODE',
  POLICY_INVALID: 'NXA_POLICY_INVALID',
  SINK: 'NXA_SINK',
  /** The engine's local state store failed or is held by another process (retriable: it is released or rebuilt from the changelog). */
  STORE: 'NXA_STORE',
  TIMEOUT: 'NXA_TIMEOUT',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface NextActErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  details?: unknown;
}

export class NextActError extends Error {
  readonly code: ErrorCode;
  /** True when the same operation may succeed if tried again (transient broker or network trouble). */
  readonly retriable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: NextActErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NextActError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.details = options.details;
  }
}

/** One field-level problem in an input, phrased for the sender. */
export interface FieldError {
  /** Dotted path, e.g. `lineItems[0].quantity`. */
  field: string;
  expected: string;
  received: string;
}

export class ValidationError extends NextActError {
  readonly fieldErrors: FieldError[];
  constructor(message: string, fieldErrors: FieldError[]) {
    super(ErrorCodes.VALIDATION, message, { details: fieldErrors });
    this.name = 'ValidationError';
    this.fieldErrors = fieldErrors;
  }
}

/** Whether an unknown thrown value says the operation may be retried. */
export function isRetriable(err: unknown): boolean {
  if (err instanceof NextActError) return err.retriable;
  if (typeof err === 'object' && err !== null && 'retriable' in err) {
    return Boolean((err as { retriable: unknown }).retriable);
  }
  return false;
}

/** The first `NextActError` code on the error or its `cause` chain. */
export function errorCodeOf(err: unknown): ErrorCode | undefined {
  const seen = new Set<unknown>();
  for (let current = err; typeof current === 'object' && current !== null && !seen.has(current); current = (current as { cause?: unknown }).cause) {
    seen.add(current);
    if (current instanceof NextActError) return current.code;
  }
  return undefined;
}

/**
 * Whether this member lost the right to commit for what it was working on: its transactional
 * producer was fenced by a newer one, or its group membership is stale (KIP-447). The work must be
 * given up, never retried as it is.
 */
export function isFencedError(err: unknown): boolean {
  const code = errorCodeOf(err);
  return code === ErrorCodes.KAFKA_FENCED || code === ErrorCodes.KAFKA_STALE_MEMBER;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
