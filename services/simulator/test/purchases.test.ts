import type { PurchaseEvent } from '@nextact/core';
import { expectedPurchasesNewCustomer, fitGammaGamma } from '@nextact/core/src/models';
import { betaVariate, gammaVariate, resolvePurchaseProcess } from '../src/purchases';
import { Rng } from '../src/rng';
import { World } from '../src/world';

const DAY = 86_400_000;

describe('ground-truth purchase process (BG/NBD + Gamma-Gamma)', () => {
  it('samples Gamma and Beta with the right means', () => {
    const rng = new Rng(5);
    const n = 50_000;
    let g = 0;
    let small = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      g += gammaVariate(rng, 3, 2);
      small += gammaVariate(rng, 0.5, 1);
      b += betaVariate(rng, 2, 6);
    }
    expect(g / n).toBeCloseTo(1.5, 1);
    expect(small / n).toBeCloseTo(0.5, 1);
    expect(b / n).toBeCloseTo(0.25, 2);
  });

  it('drives every purchase of a bgnbd world: counts as BG/NBD expects, spend as Gamma-Gamma', () => {
    const process = { r: 2, alpha: 10, a: 1.5, b: 3, p: 4, q: 8, gamma: 280 };
    const world = new World({ seed: 11, customers: 1_500, purchases: 'bgnbd', purchaseProcess: process });
    const end = world.epochMs + 60 * DAY;
    const byCustomer = new Map<string, PurchaseEvent[]>();
    let checkouts = 0;
    for (let e = world.nextBefore(end); e !== null; e = world.nextBefore(end)) {
      if (e.name === 'nextact.PurchaseEvent') byCustomer.set(e.value.customerId, [...(byCustomer.get(e.value.customerId) ?? []), e.value]);
      if (e.name === 'nextact.BrowseEvent' && e.value.kind === 'CHECKOUT_START') checkouts++;
    }
    // Sessions no longer end in purchases of their own.
    expect(checkouts).toBe(0);
    expect(world.purchaseProcess).toEqual(resolvePurchaseProcess(process));
    // Repeat purchases within the rest of the window after each first purchase match equation (9).
    let repeats = 0;
    let expected = 0;
    const x: number[] = [];
    const meanSpend: number[] = [];
    for (const list of byCustomer.values()) {
      const first = list[0] as PurchaseEvent;
      repeats += list.length - 1;
      expected += expectedPurchasesNewCustomer(process, (end - first.eventTime) / DAY);
      expect(list.every((p) => p.lineItems.length === 1 && p.amountMinor === p.lineItems[0]?.unitPriceMinor)).toBe(true);
      if (list.length > 1) {
        x.push(list.length - 1);
        meanSpend.push(list.slice(1).reduce((s, p) => s + p.amountMinor, 0) / (list.length - 1) / 100);
      }
    }
    expect(byCustomer.size).toBeGreaterThan(1_000);
    expect(repeats / expected).toBeGreaterThan(0.9);
    expect(repeats / expected).toBeLessThan(1.1);
    // Mean order value of the population: pγ/(q − 1) = 160.
    const gg = fitGammaGamma({ x, meanSpend });
    const mean = (gg.parameters.p * gg.parameters.gamma) / (gg.parameters.q - 1);
    expect(mean / 160).toBeGreaterThan(0.9);
    expect(mean / 160).toBeLessThan(1.1);
  });

  it('refuses a non-positive parameter', () => {
    expect(() => resolvePurchaseProcess({ r: 0 })).toThrow(/r must be a positive number/);
  });
});
