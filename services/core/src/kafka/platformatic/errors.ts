/**
 * @platformatic/kafka errors to the port's stable codes. The only place that client's error
 * classes and broker error names are read: everything outside the adapter branches on
 * `NextActError.code`.
 */
import { type ErrorCode, ErrorCodes, errorMessage, NextActError } from '../../errors';
import { BROKER_ERROR_CODES, RETRIABLE_CODES } from '../broker-errors';

/** The client's own error codes (`GenericError.code`) without a broker error name. */
const BY_CLIENT_CODE: Record<string, ErrorCode> = {
  PLT_KFK_NETWORK: ErrorCodes.KAFKA_UNAVAILABLE,
  PLT_KFK_TIMEOUT: ErrorCodes.TIMEOUT,
  PLT_KFK_AUTHENTICATION: ErrorCodes.KAFKA_AUTH,
};

interface PlatformaticLike {
  code?: unknown;
  apiId?: unknown;
  canRetry?: unknown;
  errors?: unknown;
  cause?: unknown;
}

/** The most specific port code on the error, the errors it aggregates, or its causes. */
export function classify(err: unknown): { code: ErrorCode; retriable: boolean; apiId?: string; reason?: string } {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  let fallback: { code: ErrorCode; retriable: boolean } | undefined;
  // The first innermost error: without a code of ours, its message is the only clue to the cause.
  let leaf: string | undefined;
  while (queue.length > 0) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    if (current instanceof NextActError) return { code: current.code, retriable: current.retriable };
    const e = current as PlatformaticLike;
    const apiId = typeof e.apiId === 'string' ? e.apiId : undefined;
    const byApi = apiId ? BROKER_ERROR_CODES[apiId] : undefined;
    if (byApi) return { code: byApi, retriable: RETRIABLE_CODES.has(byApi), apiId };
    const byClient = typeof e.code === 'string' ? BY_CLIENT_CODE[e.code] : undefined;
    // The client wraps a refused authentication in a network error ("Connection to ... failed"):
    // the authentication failure is the reason, and no retry fixes it.
    if (byClient === ErrorCodes.KAFKA_AUTH) return { code: byClient, retriable: false, reason: errorMessage(current) };
    if (byClient && !fallback) fallback = { code: byClient, retriable: RETRIABLE_CODES.has(byClient) };
    if (Array.isArray(e.errors)) queue.push(...e.errors);
    if (e.cause) queue.push(e.cause);
    if (!leaf && current !== err && !(Array.isArray(e.errors) && e.errors.length > 0) && !e.cause) leaf = errorMessage(current);
  }
  return fallback ?? { code: ErrorCodes.KAFKA, retriable: false, reason: leaf };
}

/** Wraps any @platformatic/kafka failure as a NextActError with the port's code (NextActErrors pass through). */
export function portError(err: unknown, what: string): NextActError {
  if (err instanceof NextActError) return err;
  const { code, retriable, apiId, reason } = classify(err);
  // The client's outer message is often generic ("Listing topics failed."); the broker's error
  // name or the authentication failure, found deep in its aggregate, is what tells an operator
  // what went wrong.
  const detail = apiId ? `broker error ${apiId}` : reason;
  const named = detail && !errorMessage(err).includes(detail) ? ` (${detail})` : '';
  return new NextActError(code, `${what}: ${errorMessage(err)}${named}`, { retriable, cause: err, details: apiId ? { apiId } : undefined });
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
