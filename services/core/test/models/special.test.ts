import { hessian, hyp2f1, invert, lnGamma, logAddExp, minimise, nelderMead } from '../../src/models';

describe('special functions', () => {
  it('lnGamma matches factorials and Γ(1/2) = √π', () => {
    let logFactorial = 0;
    for (let n = 1; n <= 30; n++) {
      expect(lnGamma(n)).toBeCloseTo(logFactorial, 10);
      logFactorial += Math.log(n);
    }
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(lnGamma(0.01)).toBeCloseTo(4.599479878042021, 10);
    expect(lnGamma(1e6)).toBeCloseTo(12815504.5691476, 4);
  });

  it('logAddExp does not overflow', () => {
    expect(logAddExp(1000, 1000)).toBeCloseTo(1000 + Math.LN2, 10);
    expect(logAddExp(-1000, Number.NEGATIVE_INFINITY)).toBe(-1000);
    expect(logAddExp(Math.log(2), Math.log(3))).toBeCloseTo(Math.log(5), 12);
  });

  it('hyp2f1 matches closed forms', () => {
    for (const z of [0, 0.1, 0.5, 0.9, 0.97]) {
      // 2F1(1, 1; 2; z) = −ln(1 − z)/z and 2F1(a, b; b; z) = (1 − z)^(−a).
      expect(hyp2f1(1, 1, 2, z)).toBeCloseTo(z === 0 ? 1 : -Math.log(1 - z) / z, 9);
      expect(hyp2f1(2.5, 3, 3, z)).toBeCloseTo((1 - z) ** -2.5, 8);
    }
    expect(() => hyp2f1(1, 1, 2, 1)).toThrow(RangeError);
  });
});

describe('optimisation', () => {
  it('Nelder–Mead finds the Rosenbrock minimum', () => {
    const rosenbrock = ([x, y]: number[]) => 100 * ((y as number) - (x as number) ** 2) ** 2 + (1 - (x as number)) ** 2;
    const m = minimise(rosenbrock, [-1.2, 1]);
    expect(m.converged).toBe(true);
    expect(m.x[0]).toBeCloseTo(1, 4);
    expect(m.x[1]).toBeCloseTo(1, 4);
    expect(m.value).toBeLessThan(1e-8);
  });

  it('Nelder–Mead handles 4 dimensions and treats NaN as +∞', () => {
    const target = [1, -2, 3, 0.5];
    const f = (x: number[]) => ((x[0] as number) < -5 ? Number.NaN : x.reduce((s, v, i) => s + (i + 1) * (v - (target[i] as number)) ** 2, 0));
    const m = nelderMead(f, [0, 0, 0, 0]);
    for (const [i, v] of m.x.entries()) expect(v).toBeCloseTo(target[i] as number, 5);
  });

  it('the numerical Hessian and its inverse recover a quadratic form', () => {
    // f = ½ xᵀAx with A = [[4, 1], [1, 3]]: Hessian A, inverse (1/11)[[3, −1], [−1, 4]].
    const f = ([x, y]: number[]) => 0.5 * (4 * (x as number) ** 2 + 2 * (x as number) * (y as number) + 3 * (y as number) ** 2);
    const h = hessian(f, [0.3, -0.2]);
    expect(h[0]?.[0]).toBeCloseTo(4, 5);
    expect(h[0]?.[1]).toBeCloseTo(1, 5);
    expect(h[1]?.[1]).toBeCloseTo(3, 5);
    const inv = invert(h) as number[][];
    expect(inv[0]?.[0]).toBeCloseTo(3 / 11, 5);
    expect(inv[0]?.[1]).toBeCloseTo(-1 / 11, 5);
    expect(inv[1]?.[1]).toBeCloseTo(4 / 11, 5);
    expect(
      invert([
        [1, 2],
        [2, 4],
      ]),
    ).toBeNull();
  });
});
