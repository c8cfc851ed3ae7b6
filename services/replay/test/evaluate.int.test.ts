/**
 * evaluate on the real broker, registry and (embedded) ClickHouse: a live engine logs decisions,
 * backfill sinks events and decisions, and the logged contexts are rebuilt by a fold of the log.
 * The logging policy evaluated against itself must give weights of exactly 1 (IPS = SNIPS = the
 * observed value); a greedier candidate must move the weights and shrink the effective sample.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClickHouse, migrate } from '@nextact/analytics';
import { silentLogger } from '@nextact/core';
import { createNbaDomain, loadPolicy } from '@nextact/engine';
import { makeEvents, produceEvents, startEngine, type TestStack, testStack, waitCaughtUp } from '../../engine/test/runtime/helpers';
import { runBackfill } from '../src/backfill';
import { openContext, type ReplayContext } from '../src/context';
import { runEvaluate } from '../src/evaluate';

jest.setTimeout(110_000);

const policyFile = join(__dirname, '../../engine/policy/policy.yaml');
let stack: TestStack;
let ctx: ReplayContext;
let dir: string;
let store: ReturnType<typeof createClickHouse>;

beforeAll(async () => {
  stack = await testStack('replay-eval', 3);
  dir = mkdtempSync(join(tmpdir(), 'nextact-replay-eval-'));
  await produceEvents(stack, makeEvents(4000, 80, 5), 500);
  const groupId = `${stack.prefix}engine`;
  const { engine } = await startEngine(stack, createNbaDomain(loadPolicy(policyFile)), { groupId, instanceId: 'live' });
  try {
    await waitCaughtUp(stack, groupId, 60_000);
  } finally {
    await engine.stop();
  }
  ctx = await openContext({ env: stack.env, logger: silentLogger });
  store = createClickHouse({ ...ctx.config, clickhouseUrl: undefined, chdbPath: join(dir, 'chdb'), clickhouseDatabase: 'nextact' });
  await migrate(store, silentLogger);
  for (const source of ['events', 'decisions'] as const)
    await runBackfill(ctx, { source, range: { whole: true }, store, progressFile: join(dir, `${source}.progress`), progress: false });
});

afterAll(async () => {
  await store?.close();
  await ctx?.close();
  await stack?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('replay evaluate', () => {
  it('gives weights of 1 and the observed value when the candidate is the logging policy', async () => {
    const r = await runEvaluate(ctx, { policyFile, loggedPolicyFile: policyFile, store, progress: false });
    expect(r.loggedDecisions).toBeGreaterThan(200);
    expect(r.evaluated).toBe(r.loggedDecisions);
    expect({ notReproduced: r.notReproduced, mismatches: r.probabilityMismatches, silent: r.candidateSilent }).toEqual({
      notReproduced: 0,
      mismatches: 0,
      silent: 0,
    });
    const e = r.estimate!;
    expect(e.loggingValue).toBeGreaterThan(0);
    expect(e.meanWeight).toBeCloseTo(1, 9);
    expect(e.maxWeight).toBeCloseTo(1, 9);
    expect(e.ips).toBeCloseTo(e.loggingValue, 9);
    expect(e.snips!).toBeCloseTo(e.loggingValue, 9);
    // DR adds the reward model's average over the candidate's choices minus its average over the logged ones: equal in expectation, not exactly.
    expect(Math.abs(e.doublyRobust - e.loggingValue)).toBeLessThan(0.01);
    expect(e.effectiveSampleSize).toBeCloseTo(e.n, 6);
    // Intervals clustered by customer: 80 customers in this log.
    expect(e.clusters).toBeGreaterThan(40);
    expect(e.clusters).toBeLessThanOrEqual(80);
  });

  it('moves the weights for a greedier candidate, asked in the logged contexts', async () => {
    const greedy = join(dir, 'greedy.yaml');
    writeFileSync(
      greedy,
      readFileSync(policyFile, 'utf8')
        .replace(/version: "[^"]+"/, 'version: "greedy"')
        .replace(/temperature: 1.0/, 'temperature: 0.1'),
    );
    const r = await runEvaluate(ctx, { policyFile: greedy, loggedPolicyFile: policyFile, store, progress: false });
    const e = r.estimate!;
    expect(r.evaluated).toBeGreaterThan(200);
    expect(r.probabilityMismatches).toBe(0);
    expect(e.effectiveSampleSize).toBeLessThan(e.n * 0.99);
    expect(Math.abs(e.meanWeight - 1)).toBeGreaterThan(1e-3);
    for (const v of [e.ips, e.snips!, e.doublyRobust]) expect(Number.isFinite(v)).toBe(true);
    expect(e.snipsCi95!.low).toBeLessThanOrEqual(e.snips!);
    expect(e.snipsCi95!.high).toBeGreaterThanOrEqual(e.snips!);
  });

  it('refuses a candidate file that does not parse, with file:line:col', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'version: [\n');
    await expect(runEvaluate(ctx, { policyFile: bad, loggedPolicyFile: policyFile, store, progress: false })).rejects.toThrow(/bad\.yaml:\d+:\d+:/);
  });
});
