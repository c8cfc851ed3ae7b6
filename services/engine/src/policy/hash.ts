/** Deterministic randomness: every "random" draw is a hash of stable identifiers, never Math.random. */
import { createHash } from 'node:crypto';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A uniform draw in [0, 1) from 52 bits of a hex digest (exactly representable in a double). */
function uniformFromHex(hex: string, at: number): number {
  return Number.parseInt(hex.slice(at, at + 13), 16) / 2 ** 52;
}

/**
 * One sha256 of a decision's trigger gives both its id (the first 128 bits, as 32 hex digits) and its
 * selection draw (the next 52 bits): independent bits of one digest, one hash per decision.
 */
export function decisionDigest(triggerEventId: string, policyVersion: string): { decisionId: string; draw: number } {
  const hex = sha256Hex(`${triggerEventId}|${policyVersion}`);
  return { decisionId: hex.slice(0, 32), draw: uniformFromHex(hex, 32) };
}

/** A uniform draw in [0, 1) from the first 52 bits of sha256(seed) (exactly representable in a double). */
export function uniformFromSeed(seed: string): number {
  return uniformFromHex(sha256Hex(seed), 0);
}
