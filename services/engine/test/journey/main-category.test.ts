/**
 * The main category (core's main-category, the segments report's definition) on its own and as the
 * journey keeps it: counting rules, tie order, the bound, independence from arrival order, and the
 * changelog encoding (journeys written before it read with no counts).
 */
import { avroType, type CustomerEvent } from '@nextact/core';
import {
  eventCategory,
  MAIN_CATEGORY_MAX_DISTINCT,
  mainCategoryOf,
  mainCategoryOfEvents,
  NO_CATEGORIES,
  TOO_MANY_CATEGORIES,
} from '@nextact/core/src/main-category';
import { Type } from 'avsc';
import fc from 'fast-check';
import type { JourneyState } from '../../src/journey/state';
import { browse, chat, DAY, domainFor, HOUR, purchase, T0, WALL } from '../policy/helpers';

const C = 'cust-mc';

function fold(events: CustomerEvent[]): JourneyState {
  const domain = domainFor();
  let j = domain.initialJourney(C);
  let l = domain.initialLearner();
  for (const e of events) {
    const r = domain.onEvent(j, l, e, WALL);
    j = r.journey;
    l = r.learner;
  }
  return j;
}

/** The definition written out the long way: counts per category, most wins, ties to the greatest UTF-8 bytes. */
function reference(events: CustomerEvent[]): string | null {
  const counts = new Map<string, number>();
  const ids = new Set<string>();
  for (const e of events) {
    if (ids.has(e.value.eventId)) continue;
    ids.add(e.value.eventId);
    const category = e.name === 'nextact.BrowseEvent' ? e.value.category : e.name === 'nextact.PurchaseEvent' ? e.value.lineItems[0]?.category : null;
    if (category) counts.set(category, (counts.get(category) ?? 0) + 1);
  }
  if (counts.size > MAIN_CATEGORY_MAX_DISTINCT) return null;
  const ranked = [...counts].sort(([a, n], [b, m]) => m - n || Buffer.compare(Buffer.from(b), Buffer.from(a)));
  return ranked[0]?.[0] ?? null;
}

describe('main category (the segments report definition)', () => {
  it('counts browses by their category and purchases by their first line item only; other events and empty categories not at all', () => {
    const twoItems = purchase(C, T0, 5000, 'toys', {
      lineItems: [
        { sku: 'a', category: 'toys', quantity: 1, unitPriceMinor: 2500 },
        { sku: 'b', category: 'books', quantity: 1, unitPriceMinor: 2500 },
      ],
    });
    expect(eventCategory(twoItems)).toBe('toys');
    expect(eventCategory(browse(C, T0, { category: '' }))).toBeNull();
    expect(eventCategory(browse(C, T0, { category: null }))).toBeNull();
    expect(eventCategory(chat(C, T0))).toBeNull();
    expect(mainCategoryOfEvents([twoItems, browse(C, T0 + 1, { category: 'books' }), browse(C, T0 + 2, { category: 'toys' })])).toBe('toys');
    expect(mainCategoryOfEvents([chat(C, T0)])).toBeNull();
  });

  it('breaks a tie by the greater name in UTF-8 byte order (as ClickHouse compares), not UTF-16', () => {
    expect(mainCategoryOfEvents([browse(C, T0, { category: 'books' }), browse(C, T0 + 1, { category: 'toys' })])).toBe('toys');
    expect(mainCategoryOfEvents([browse(C, T0, { category: 'toys' }), browse(C, T0 + 1, { category: 'books' })])).toBe('toys');
    // U+FF5A sorts above U+1F600 in UTF-16 units but below it in UTF-8 bytes.
    expect('ｚ' > '😀').toBe(true);
    expect(mainCategoryOfEvents([browse(C, T0, { category: 'ｚ' }), browse(C, T0 + 1, { category: '😀' })])).toBe('😀');
  });

  it('orders any two tied names as their UTF-8 bytes compare', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1 }), fc.string({ unit: 'binary', minLength: 1 }), (a, b) => {
        fc.pre(a !== b);
        const greater = Buffer.compare(Buffer.from(a), Buffer.from(b)) > 0 ? a : b;
        expect(mainCategoryOfEvents([browse(C, T0, { category: a }), browse(C, T0 + 1, { category: b })])).toBe(greater);
        expect(mainCategoryOfEvents([browse(C, T0, { category: b }), browse(C, T0 + 1, { category: a })])).toBe(greater);
      }),
      { numRuns: 2000 },
    );
  });

  it('has none past the bound of distinct categories, and the journey then keeps no counts', () => {
    const events = Array.from({ length: MAIN_CATEGORY_MAX_DISTINCT + 1 }, (_, i) => browse(C, T0 + i * HOUR, { category: `c${i}` }));
    const atBound = fold(events.slice(0, MAIN_CATEGORY_MAX_DISTINCT));
    expect(atBound.categories.names).toHaveLength(MAIN_CATEGORY_MAX_DISTINCT);
    expect(mainCategoryOf(atBound.categories)).toBe('c9'); // all tied at 1: the greatest name
    const past = fold([...events, browse(C, T0 + DAY, { category: 'c0' }), browse(C, T0 + DAY + 1, { category: 'c0' })]);
    expect(past.categories).toBe(TOO_MANY_CATEGORIES);
    expect(mainCategoryOf(past.categories)).toBeNull();
    expect(mainCategoryOfEvents(events)).toBeNull();
  });

  // Within the journey's dedupe window (an hour of event time), where a redelivery is recognised.
  it('is what the journey holds after the same events, in any arrival order, duplicates counted once', () => {
    const category = fc.constantFrom('home', 'toys', 'books', 'sports', '', null);
    const event = fc.record({ kind: fc.constantFrom('browse', 'purchase', 'chat'), category, minute: fc.integer({ min: 0, max: 50 }) });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 40 }), fc.nat(), (specs, swaps, dup) => {
        const events = specs.map((s, i): CustomerEvent => {
          const at = T0 + s.minute * 60_000;
          const over = { eventId: `e${i}` };
          if (s.kind === 'browse') return browse(C, at, { ...over, category: s.category });
          if (s.kind === 'purchase') return purchase(C, at, 1000, s.category as string, over);
          return chat(C, at, over);
        });
        if (events.length > 0) events.push(events[dup % events.length]!); // a redelivery
        const shuffled = [...events];
        if (shuffled.length > 0)
          swaps.forEach((s, i) => {
            const k = s % shuffled.length;
            const m = i % shuffled.length;
            [shuffled[k], shuffled[m]] = [shuffled[m]!, shuffled[k]!];
          });
        const expected = reference(events);
        expect(mainCategoryOfEvents(events)).toBe(expected);
        expect(mainCategoryOf(fold(events).categories)).toBe(expected);
        expect(mainCategoryOf(fold(shuffled).categories)).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('survives the Avro changelog; a version-3 journey (written before it) reads with no counts', () => {
    const domain = domainFor();
    const j = fold([browse(C, T0, { category: 'home' }), purchase(C, T0 + HOUR, 4000, 'toys'), browse(C, T0 + 2 * HOUR, { category: 'toys' })]);
    expect(j.categories).toEqual({ names: ['home', 'toys'], counts: [1, 2], overflow: false });
    expect(domain.deserialiseJourney(domain.serialiseJourney(j))).toEqual(j);
    const current = avroType('nextact.Journey').schema() as { fields: { name: string }[] };
    const v3Type = Type.forSchema({ ...current, fields: current.fields.filter((f) => f.name !== 'categories') } as never);
    const { categories: _categories, ...rest } = j;
    const read = domain.deserialiseJourney(v3Type.toBuffer({ ...rest, v: 3 }));
    expect(read).toEqual({ ...j, categories: NO_CATEGORIES });
    expect(read.categories).toBe(NO_CATEGORIES);
  });
});
