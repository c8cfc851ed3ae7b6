/**
 * A browse session: a landing page or a search, then (past awareness) product views and cart
 * changes; whether it ends in a checkout is decided when the session ends, with the customer as
 * they are then.
 */
import type { BrowseEvent, BrowseKind, SalesChannel } from '@nextact/core';
import { type Category, categories, skuOf } from '../catalog';
import type { WorldContext } from './context';
import type { Customer } from './customer';
import { purchaseChance } from './propensity';
import { basket, type Product, pickProduct, purchase } from './purchasing';

/** The session starting at `at`; returns when its last page view happened. */
export function browseSession(ctx: WorldContext, c: Customer, at: number): number {
  const rng = c.rng;
  const device = rng.chance(c.traits.appShare) ? 'app' : 'web';
  const sessionId = `s-${ctx.seed}-${c.id}-${c.n}`;
  const source = `sim.${device}`;
  let t = at;
  const step = (kind: BrowseKind, fields: Partial<BrowseEvent> = {}) => {
    const event: BrowseEvent = {
      eventId: ctx.eventId(c),
      customerId: c.id,
      eventTime: t,
      source,
      schemaVersion: 1,
      kind,
      sessionId,
      url: null,
      productId: null,
      category: null,
      query: null,
      ...fields,
    };
    ctx.emit(c, t, { name: 'nextact.BrowseEvent', value: event });
    t += 10_000 + Math.floor(rng.next() * 110_000);
  };
  const viewProduct = () => {
    const p = pickProduct(c, rng);
    const sku = skuOf(p.category, p.index);
    step('PRODUCT_VIEW', { productId: sku, category: p.category.name, url: `https://shop.example/p/${sku}` });
    return p;
  };

  if (rng.chance(0.35)) {
    const category = rng.chance(0.6) ? (categories[c.traits.favouriteCategory] as Category) : rng.pick(categories);
    const term = rng.pick(category.terms);
    step('SEARCH', { query: term, category: category.name, url: `https://shop.example/search?q=${encodeURIComponent(term)}` });
  } else {
    step('PAGE_VIEW', { url: 'https://shop.example/' });
  }

  if (c.stage === 'AWARENESS') {
    const pages = rng.int(0, 2);
    for (let i = 0; i < pages; i++) {
      const category = rng.pick(categories);
      step('PAGE_VIEW', { url: `https://shop.example/c/${category.name}`, category: category.name });
    }
    if (rng.chance(0.35)) {
      // Interest sparked: the customer starts comparing products.
      viewProduct();
      ctx.transition(c, 'CONSIDERATION');
    }
    if (c.stage === 'AWARENESS') return t;
  }

  const cart: Product[] = [];
  const views = rng.int(1, 4);
  for (let i = 0; i < views; i++) {
    const p = viewProduct();
    if (rng.chance(0.3)) {
      cart.push(p);
      const sku = skuOf(p.category, p.index);
      step('ADD_TO_CART', { productId: sku, category: p.category.name, url: 'https://shop.example/cart' });
    }
  }
  if (cart.length > 1 && rng.chance(0.15)) {
    const removed = cart.pop() as Product;
    step('REMOVE_FROM_CART', { productId: skuOf(removed.category, removed.index), category: removed.category.name, url: 'https://shop.example/cart' });
  }

  // Whether the session ends in a purchase is decided when it ends, with the customer as they are then.
  const decideAt = t;
  c.pendingCheckoutAt = decideAt;
  ctx.schedule({
    time: decideAt,
    customer: c.index,
    run: () => {
      if (c.pendingCheckoutAt === decideAt) c.pendingCheckoutAt = null;
      if (!rng.chance(purchaseChance(c))) return null;
      const items = basket(c, rng, cart);
      const purchaseAt = decideAt + 60_000 + Math.floor(rng.next() * 180_000);
      const purchaseId = ctx.eventId(c);
      const channel: SalesChannel = device === 'app' ? 'APP' : 'WEB';
      c.plannedPurchaseAt = purchaseAt;
      ctx.schedule({ time: purchaseAt, customer: c.index, run: () => purchase(ctx, c, purchaseAt, items, purchaseId, channel) });
      return {
        name: 'nextact.BrowseEvent',
        value: {
          eventId: ctx.eventId(c),
          customerId: c.id,
          eventTime: decideAt,
          source,
          schemaVersion: 1,
          kind: 'CHECKOUT_START',
          sessionId,
          url: 'https://shop.example/checkout',
          productId: null,
          category: null,
          query: null,
        },
      };
    },
  });
  return t;
}
