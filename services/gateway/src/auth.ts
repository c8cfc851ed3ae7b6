import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Checks an `Authorization: Bearer <token>` header against the configured token. Both sides are
 * hashed first so the comparison runs on equal-length buffers in constant time and the token's
 * length does not leak through an early exit.
 */
export function bearerTokenMatches(header: string | string[] | undefined, expected: string): boolean {
  if (typeof header !== 'string') return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  const presented = match?.[1] ?? '';
  const equal = timingSafeEqual(digest(presented), digest(expected));
  return match !== null && equal;
}
