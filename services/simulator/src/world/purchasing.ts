/**
 * Purchasing: what a customer picks, what goes in the basket, and the purchase as it happens (it
 * moves the journey, converts open offers and sometimes brings a post-purchase survey).
 */
import type { ActionOutcome, CustomerEvent, LineItem, PurchaseEvent, SalesChannel } from '@nextact/core';
import { type Category, categories, SKUS_PER_CATEGORY, skuOf, unitPriceMinor } from '../catalog';
import type { Rng } from '../rng';
import { DAY, type WorldContext } from './context';
import type { Customer } from './customer';
import { moodAt, setMood } from './mood';
import { surveyEvent } from './surveys';

export interface Product {
  category: Category;
  index: number;
}

/** A product the customer looks at: often from their favourite category, in their segment's price band. */
export function pickProduct(c: Customer, rng: Rng): Product {
  const category = rng.chance(0.55) ? (categories[c.traits.favouriteCategory] as Category) : rng.pick(categories);
  const lo = c.traits.segment === 'premium' ? 80 : 0;
  const hi = c.traits.segment === 'value' ? 120 : SKUS_PER_CATEGORY - 1;
  return { category, index: rng.int(lo, hi) };
}

/** Line items: the cart when there is one, else 1-3 products the customer fancies. */
export function basket(c: Customer, rng: Rng, cart: Product[]): LineItem[] {
  const chosen = cart.length > 0 ? cart : Array.from({ length: rng.int(1, 3) }, () => pickProduct(c, rng));
  return chosen.map((p) => ({
    sku: skuOf(p.category, p.index),
    category: p.category.name,
    quantity: rng.chance(0.8) ? 1 : rng.int(2, 4),
    unitPriceMinor: unitPriceMinor(p.category, p.index),
  }));
}

/** A purchase as it happens: moves the journey and reports conversions of open offers. */
export function purchase(ctx: WorldContext, c: Customer, at: number, items: LineItem[], eventId: string, channel: SalesChannel): CustomerEvent {
  if (c.plannedPurchaseAt === at) c.plannedPurchaseAt = null;
  const amountMinor = items.reduce((sum, i) => sum + i.quantity * i.unitPriceMinor, 0);
  c.purchases++;
  c.lastPurchaseAt = at;
  setMood(c, at, 0.05);
  if (c.stage === 'AWARENESS' || c.stage === 'CONSIDERATION') ctx.transition(c, 'PURCHASE');
  else if (c.stage === 'CHURN_RISK') ctx.transition(c, 'RETENTION');
  else if (c.stage === 'RETENTION' && c.purchases >= 4 && moodAt(c, at) > 0.35) ctx.transition(c, 'ADVOCACY');

  c.offers = c.offers.filter((o) => o.until >= at && !o.converted);
  for (const offer of c.offers) {
    offer.converted = true;
    const outcome: ActionOutcome = {
      eventId: offer.nextId(),
      customerId: c.id,
      eventTime: at + 1_000,
      source: 'sim.channel',
      schemaVersion: 1,
      decisionId: offer.decisionId,
      actionId: offer.actionId,
      channel: offer.channel,
      outcome: 'CONVERTED',
      valueMinor: amountMinor,
    };
    ctx.emit(c, at + 1_000, { name: 'nextact.ActionOutcome', value: outcome });
  }
  c.offers = [];

  if (c.rng.chance(0.25)) {
    const surveyAt = at + DAY + Math.floor(c.rng.next() * 2 * DAY);
    const zCsat = c.rng.normal();
    const zNps = c.rng.normal();
    const surveyId = ctx.eventId(c);
    ctx.schedule({ time: surveyAt, customer: c.index, run: () => surveyEvent(ctx, c, surveyAt, surveyId, 'post-purchase', zCsat, zNps, 0, 0, null, false) });
  }
  const value: PurchaseEvent = {
    eventId,
    customerId: c.id,
    eventTime: at,
    source: 'sim.shop',
    schemaVersion: 1,
    orderId: `o-${eventId.slice(4)}`,
    lineItems: items,
    amountMinor,
    currency: c.traits.currency,
    channel,
  };
  return { name: 'nextact.PurchaseEvent', value };
}
