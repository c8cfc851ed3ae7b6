/**
 * A customer's main category, defined once for the two places that use it: the segments report
 * (analytics, in SQL over the events table) and the engine (per event, on the journey), so that a
 * policy rule by main category (upliftSuppressions) matches the customers the report measured.
 *
 * - An event counts for one category: a browse for its `category`, a purchase for its first line
 *   item's (as the events table's `category` column holds it); other events, and a missing or
 *   empty category, count for none. Each event id counts once.
 * - The main category is the one with the most counted events; a tie goes to the greatest name in
 *   binary (UTF-8 byte) order, as ClickHouse compares strings.
 * - Counting is order-free (a late event counts the same as an early one), and bounded: a customer
 *   with events in more than MAIN_CATEGORY_MAX_DISTINCT categories has no main category (interest
 *   too spread to name one), which keeps the journey's counts at that many entries at most.
 */
import type { CustomerEvent } from './contracts/records';

export const MAIN_CATEGORY_MAX_DISTINCT = 16;

/** Events per category (parallel lists, first seen first), or `overflow` once there were too many categories. */
export interface CategoryCounts {
  readonly names: readonly string[];
  readonly counts: readonly number[];
  readonly overflow: boolean;
}

export const NO_CATEGORIES: CategoryCounts = Object.freeze({ names: Object.freeze([]), counts: Object.freeze([]), overflow: false });
/** Shared by every journey that saw too many categories. */
export const TOO_MANY_CATEGORIES: CategoryCounts = Object.freeze({ names: Object.freeze([]), counts: Object.freeze([]), overflow: true });

/** The category an event counts for, or null. */
export function eventCategory(event: CustomerEvent): string | null {
  const category =
    event.name === 'nextact.BrowseEvent' ? event.value.category : event.name === 'nextact.PurchaseEvent' ? (event.value.lineItems[0]?.category ?? null) : null;
  return category ? category : null;
}

/** The counts with one more event of `category` (a new object: the input is shared, never mutated). */
export function withCategoryEvent(c: CategoryCounts, category: string): CategoryCounts {
  if (c.overflow) return c;
  const i = c.names.indexOf(category);
  if (i >= 0) {
    const counts = c.counts.slice();
    counts[i]! += 1;
    return { names: c.names, counts, overflow: false };
  }
  if (c.names.length >= MAIN_CATEGORY_MAX_DISTINCT) return TOO_MANY_CATEGORIES;
  return { names: [...c.names, category], counts: [...c.counts, 1], overflow: false };
}

/**
 * Whether `a` comes after `b` in UTF-8 byte order, which is code point order. JS `<` compares UTF-16
 * units, which differs only where a surrogate (a code point above U+FFFF) meets a unit in
 * U+E000..U+FFFF: those two ranges swap places. No allocation: this runs on every tie.
 */
function greaterUtf8(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x > y;
  }
  return a.length > b.length;
}

/** The main category of these counts; null with no counted event or too many categories. */
export function mainCategoryOf(c: CategoryCounts): string | null {
  let best: string | null = null;
  let most = 0;
  for (let i = 0; i < c.names.length; i++) {
    const n = c.counts[i]!;
    const name = c.names[i]!;
    if (n > most || (n === most && best !== null && greaterUtf8(name, best))) {
      best = name;
      most = n;
    }
  }
  return c.overflow ? null : best;
}

/** The same definition over a list of events (each id once): what the report's SQL computes. */
export function mainCategoryOfEvents(events: readonly CustomerEvent[]): string | null {
  const seen = new Set<string>();
  let c = NO_CATEGORIES;
  for (const e of events) {
    if (seen.has(e.value.eventId)) continue;
    seen.add(e.value.eventId);
    const category = eventCategory(e);
    if (category) c = withCategoryEvent(c, category);
  }
  return mainCategoryOf(c);
}
