/**
 * The ground-truth purchase process (`purchases: 'bgnbd'`): each customer's latent BG/NBD and
 * Gamma-Gamma traits on a stream of their own, and the purchases they lead to (the process's
 * arithmetic is in ../purchases.ts).
 */
import type { LineItem } from '@nextact/core';
import { skuOf } from '../catalog';
import { drawPurchaseTraits, nextPurchaseGapDays, orderValueMinor, type PurchaseProcessConfig, type PurchaseTraits } from '../purchases';
import { mixSeeds, Rng } from '../rng';
import { DAY, type WorldContext } from './context';
import type { Customer } from './customer';
import { pickProduct, purchase } from './purchasing';

export interface PurchaseProcessState {
  traits: PurchaseTraits;
  rng: Rng;
  alive: boolean;
  /** Purchases the process made so far. */
  purchases: number;
}

/** Customer `index`'s latent traits, on a stream separate from their behaviour's. */
export function newPurchaseProcess(seed: number, index: number, config: PurchaseProcessConfig): PurchaseProcessState {
  const rng = new Rng(mixSeeds(seed, 'purchases', index));
  return { traits: drawPurchaseTraits(rng, config), rng, alive: true, purchases: 0 };
}

/**
 * The process's next purchase after `from`: the first is not followed by a dropout chance, each
 * repeat is (BG/NBD: alive after x repeats with probability (1 − p)^x).
 */
export function scheduleProcessPurchase(ctx: WorldContext, c: Customer, from: number): void {
  const p = c.process;
  const config = ctx.purchaseProcess;
  if (!p || !config || !p.alive) return;
  const at = Math.round(from + nextPurchaseGapDays(p.rng, p.traits) * DAY);
  const value = orderValueMinor(p.rng, config, p.traits);
  const dropsAfter = p.purchases > 0 && p.rng.chance(p.traits.dropout);
  ctx.schedule({
    time: at,
    customer: c.index,
    run: () => {
      const product = pickProduct(c, p.rng);
      const items: LineItem[] = [{ sku: skuOf(product.category, product.index), category: product.category.name, quantity: 1, unitPriceMinor: value }];
      const event = purchase(ctx, c, at, items, ctx.eventId(c), 'WEB');
      p.purchases++;
      if (dropsAfter) p.alive = false;
      else scheduleProcessPurchase(ctx, c, at);
      return event;
    },
  });
}
