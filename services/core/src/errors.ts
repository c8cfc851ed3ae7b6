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
  KAFKA: 'NXA_KAFKA',
  REGISTRY: 'NXA_REGISTRY',
  SCHEMA_INCOMPATIBLE: 'NXA_SCHEMA_INCOMPATIBLE',
  DECODE: 'NXA_DECODE',
  POLICY_INVALID: 'NXA_POLICY_INVALID',
  SINK: 'NXA_SINK',
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

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
