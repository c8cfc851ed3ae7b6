import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes } from './errors';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Compares a presented secret with the expected one in constant time. Both sides are hashed
 * first, so timingSafeEqual runs on equal-length buffers and neither the token's length nor the
 * position of the first differing byte leaks through an early exit.
 */
export function secretMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Checks an `Authorization: Bearer <token>` header against the configured token. */
export function bearerTokenMatches(header: string | string[] | undefined, expected: string): boolean {
  if (typeof header !== 'string') return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  // Always compare, even for a malformed header: its refusal takes the same time as a wrong token.
  const equal = secretMatches(match?.[1] ?? '', expected);
  return match !== null && equal;
}

/** Why a request was refused by `checkBearer`: missing header or wrong token. */
export type BearerRefusal = 'missing' | 'invalid';

/** `undefined` when the request carries the token (or no token is configured), else why not. */
export function checkBearer(req: IncomingMessage, expected: string | undefined): BearerRefusal | undefined {
  if (expected === undefined) return undefined;
  if (bearerTokenMatches(req.headers.authorization, expected)) return undefined;
  return req.headers.authorization === undefined ? 'missing' : 'invalid';
}

/** The 401 every service answers; `connection: close` so a refused sender's body is never read. */
export function sendUnauthorized(res: ServerResponse, refusal: BearerRefusal): void {
  const body = JSON.stringify({
    error: 'unauthorized',
    code: ErrorCodes.UNAUTHORIZED,
    message: refusal === 'missing' ? 'missing Authorization: Bearer <token> header' : 'bearer token is not valid',
  });
  res.writeHead(401, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'www-authenticate': refusal === 'missing' ? 'Bearer realm="nextact"' : 'Bearer realm="nextact", error="invalid_token"',
    connection: 'close',
  });
  res.end(body);
}
