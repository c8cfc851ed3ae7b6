/**
 * BG/NBD and Gamma-Gamma against data drawn from their own generative processes (seeded): the
 * fits recover the parameters, and the conditional predictions match what the simulated customers
 * then do.
 */
import { prng } from '../../../../test/support/prng';
import {
  type BgNbdParameters,
  bgNbdLogLikelihood,
  customerFuture,
  expectedPurchases,
  expectedPurchasesNewCustomer,
  expectedSpend,
  fitBgNbd,
  fitGammaGamma,
  type GammaGammaParameters,
  gammaGammaLogLikelihood,
  populationMeanSpend,
  probabilityAlive,
} from '../../src/models';
import { type SimulatedCustomer, simulateCustomer } from './process';

const truthBg: BgNbdParameters = { r: 1.5, alpha: 10, a: 1, b: 4 };
const truthGg: GammaGammaParameters = { p: 3, q: 12, gamma: 200 };

function population(seed: number, n: number, holdout = 0): SimulatedCustomer[] {
  const u = prng(seed);
  // Observation windows of 300-365 days since the first purchase.
  return Array.from({ length: n }, () => simulateCustomer(u, truthBg, truthGg, 300 + u() * 65, holdout));
}

function expectRecovered<P extends object>(truth: P, fit: { parameters: P; standardErrors: { [K in keyof P]: number | null } }) {
  for (const key of Object.keys(truth) as (keyof P)[]) {
    const t = truth[key] as number;
    const est = fit.parameters[key] as number;
    const se = fit.standardErrors[key];
    expect(Math.abs(est / t - 1)).toBeLessThan(0.1);
    // The standard error is sane: present, and the miss is within 4 of them.
    expect(se).not.toBeNull();
    expect(Math.abs(est - t)).toBeLessThan(4 * (se as number));
  }
}

describe('BG/NBD', () => {
  it('recovers r, α, a, b within 10% from 10,000 simulated customers', () => {
    const cs = population(20261201, 10_000);
    const fit = fitBgNbd({ x: cs.map((c) => c.x), tx: cs.map((c) => c.tx), T: cs.map((c) => c.T) });
    expect(fit.converged).toBe(true);
    expect(fit.customers).toBe(10_000);
    expectRecovered(truthBg, fit);
    // The fit's fast likelihood is the per-customer one summed.
    const direct = cs.reduce((s, c) => s + bgNbdLogLikelihood(fit.parameters, c.x, c.tx, c.T), 0);
    expect(fit.logLikelihood).toBeCloseTo(direct, 4);
  });

  it('weights count identical customers once per weight', () => {
    const cs = population(3, 300);
    const weighted = fitBgNbd({ x: cs.map((c) => c.x), tx: cs.map((c) => c.tx), T: cs.map((c) => c.T), weight: cs.map(() => 2) });
    const twice = [...cs, ...cs];
    const expanded = fitBgNbd({ x: twice.map((c) => c.x), tx: twice.map((c) => c.tx), T: twice.map((c) => c.T) });
    expect(weighted.customers).toBe(600);
    expect(weighted.rows).toBe(300);
    expect(weighted.logLikelihood).toBeCloseTo(expanded.logLikelihood, 3);
    expect(weighted.parameters.r).toBeCloseTo(expanded.parameters.r, 3);
  });

  it('refuses summaries that cannot be (t_x > T, fractional x)', () => {
    expect(() => fitBgNbd({ x: [1], tx: [10], T: [5] })).toThrow(/t_x <= T/);
    expect(() => fitBgNbd({ x: [1.5], tx: [1], T: [5] })).toThrow(/whole number/);
  });

  it('P(alive) and expected purchases match what simulated customers do next', () => {
    const holdout = 180;
    const cs = population(7, 20_000, holdout);
    let predicted = 0;
    let actual = 0;
    let pAlive = 0;
    let alive = 0;
    for (const c of cs) {
      predicted += expectedPurchases(truthBg, holdout, c.x, c.tx, c.T);
      actual += c.future;
      pAlive += probabilityAlive(truthBg, c.x, c.tx, c.T);
      alive += c.alive ? 1 : 0;
    }
    expect(predicted / actual).toBeGreaterThan(0.95);
    expect(predicted / actual).toBeLessThan(1.05);
    expect(pAlive / alive).toBeGreaterThan(0.97);
    expect(pAlive / alive).toBeLessThan(1.03);
  });

  it('P(alive): 1 without repeats, lower the longer a repeat buyer has been silent', () => {
    expect(probabilityAlive(truthBg, 0, 0, 300)).toBe(1);
    const recent = probabilityAlive(truthBg, 5, 290, 300);
    const silent = probabilityAlive(truthBg, 5, 50, 300);
    expect(recent).toBeGreaterThan(silent);
    expect(silent).toBeGreaterThan(0);
    expect(expectedPurchases(truthBg, 90, 5, 290, 300)).toBeGreaterThan(expectedPurchases(truthBg, 90, 5, 50, 300));
    expect(expectedPurchases(truthBg, 0, 5, 290, 300)).toBe(0);
  });

  it("a new customer's expected purchases match the simulation", () => {
    const u = prng(99);
    const horizon = 120;
    const n = 20_000;
    let total = 0;
    for (let i = 0; i < n; i++) total += simulateCustomer(u, truthBg, truthGg, horizon).x;
    expect(expectedPurchasesNewCustomer(truthBg, horizon) / (total / n)).toBeGreaterThan(0.96);
    expect(expectedPurchasesNewCustomer(truthBg, horizon) / (total / n)).toBeLessThan(1.04);
  });
});

describe('Gamma-Gamma', () => {
  it('recovers p, q, γ within 10% from the repeat buyers of 20,000 simulated customers', () => {
    const buyers = population(424242, 20_000).filter((c) => c.x > 0);
    expect(buyers.length).toBeGreaterThan(5_000);
    const fit = fitGammaGamma({ x: buyers.map((c) => c.x), meanSpend: buyers.map((c) => c.meanSpend) });
    expectRecovered(truthGg, fit);
    const direct = buyers.reduce((s, c) => s + gammaGammaLogLikelihood(fit.parameters, c.x, c.meanSpend), 0);
    expect(fit.logLikelihood).toBeCloseTo(direct, 4);
  });

  it('shrinks a customer towards the population mean, less with more orders', () => {
    const mean = populationMeanSpend(truthGg);
    expect(mean).toBeCloseTo((3 * 200) / 11, 10);
    expect(expectedSpend(truthGg, 0, 0)).toBe(mean);
    const one = expectedSpend(truthGg, 1, 200);
    const many = expectedSpend(truthGg, 20, 200);
    expect(one).toBeGreaterThan(mean);
    expect(one).toBeLessThan(200);
    expect(Math.abs(many - 200)).toBeLessThan(Math.abs(one - 200));
    expect(() => fitGammaGamma({ x: [0], meanSpend: [10] })).toThrow(/x >= 1/);
  });
});

describe('customerFuture', () => {
  it('CLV is expected purchases × expected spend over the horizon', () => {
    const model = { version: 'test', timeUnitMs: 86_400_000, horizon: 365, bgnbd: truthBg, gammaGamma: truthGg };
    const f = customerFuture(model, { x: 4, tx: 100, T: 200, meanSpend: 80 });
    expect(f.pAlive).toBeCloseTo(probabilityAlive(truthBg, 4, 100, 200), 12);
    expect(f.expectedPurchases).toBeCloseTo(expectedPurchases(truthBg, 365, 4, 100, 200), 12);
    expect(f.clv).toBeCloseTo(f.expectedPurchases * (f.expectedSpend as number), 9);
    expect(customerFuture({ ...model, gammaGamma: null }, { x: 4, tx: 100, T: 200, meanSpend: 80 }).clv).toBeNull();
  });
});
