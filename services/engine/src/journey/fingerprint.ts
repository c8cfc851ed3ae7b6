/**
 * Numeric fingerprints for the journey's bounded histories: a 52-bit integer (exact in a double, so
 * it sits unboxed in a number array and survives JSON and Avro `long`) instead of an id string.
 *
 * Event ids are arbitrary producer strings, so they are hashed: two 32-bit multiply-xor passes with a
 * final avalanche each, 20 + 32 bits kept. Not cryptographic; a collision inside one customer's dedupe
 * window (at most BOUNDS.seenEvents entries) has a probability of about 64 / 2^52 per event.
 * Decision ids are already sha256 hex, so their first 13 hex digits are the fingerprint.
 */

function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Deterministic 52-bit hash of a string (the same on every machine and run). */
export function fingerprint52(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (avalanche(a) >>> 12) * 0x1_0000_0000 + avalanche(b ^ a);
}

const HEX13 = /^[0-9a-f]{13}/;

/** A decision id's fingerprint: its first 52 bits when it is hex (every id this engine makes), else a hash. */
export function decisionFingerprint(decisionId: string): number {
  return HEX13.test(decisionId) ? Number.parseInt(decisionId.slice(0, 13), 16) : fingerprint52(decisionId);
}

export const eventFingerprint = fingerprint52;
