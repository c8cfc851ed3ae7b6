/** Deterministic randomness: every "random" draw is a hash of stable identifiers, never Math.random. */
import { createHash } from 'node:crypto';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A uniform draw in [0, 1) from the first 52 bits of sha256(seed) (exactly representable in a double). */
export function uniformFromSeed(seed: string): number {
  return Number.parseInt(sha256Hex(seed).slice(0, 13), 16) / 2 ** 52;
}
