/** Mood: nudged by what happens, it decays back to the customer's own base with a one-week half-life. */
import { clamp, DAY } from './context';
import type { Customer } from './customer';

const MOOD_HALF_LIFE_MS = 7 * DAY;

export function moodAt(c: Customer, at: number): number {
  const decay = Math.exp((-Math.LN2 * Math.max(0, at - c.moodAt)) / MOOD_HALF_LIFE_MS);
  return c.traits.moodBase + (c.mood - c.traits.moodBase) * decay;
}

export function setMood(c: Customer, at: number, delta: number): void {
  c.mood = clamp(moodAt(c, at) + delta, -1, 1);
  c.moodAt = Math.max(c.moodAt, at);
}
