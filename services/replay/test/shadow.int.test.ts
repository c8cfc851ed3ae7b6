/**
 * Shadow runs and diffs on the real broker and registry: a live engine (NBA domain, the shipped
 * policy) decides over a log; then shadow runs of the same range must be byte-identical run to
 * run, resumable after an interrupt, leave every live topic, offset and store untouched, and a
 * diff with the same policy must find no difference while a changed policy finds some.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@nextact/core';
import { createNbaDomain, loadPolicy } from '@nextact/engine';
import { makeEvents, produceEvents, startEngine, type TestStack, testStack, waitCaughtUp } from '../../engine/test/runtime/helpers';
import { openContext, type ReplayContext } from '../src/context';
import { runDiff } from '../src/diff';
import { PartitionFold } from '../src/fold';
import { readAvroDecisions } from '../src/output';
import { Interrupt, Interrupted } from '../src/progress';
import { runRebuild } from '../src/rebuild';
import { runShadow, shadowTopicName } from '../src/shadow';

jest.setTimeout(110_000);

const policyFile = join(__dirname, '../../engine/policy/policy.yaml');
let stack: TestStack;
let ctx: ReplayContext;
let dir: string;
const groupId = () => `${stack.prefix}engine`;

beforeAll(async () => {
  stack = await testStack('replay', 3);
  dir = mkdtempSync(join(tmpdir(), 'nextact-replay-'));
  await produceEvents(stack, makeEvents(3000, 60, 11), 500);
  const { engine } = await startEngine(stack, createNbaDomain(loadPolicy(policyFile)), { groupId: groupId(), instanceId: 'live' });
  try {
    await waitCaughtUp(stack, groupId(), 60_000);
  } finally {
    await engine.stop();
  }
  ctx = await openContext({ env: stack.env, logger: silentLogger });
});

afterAll(async () => {
  await fetch(`${stack.config.schemaRegistryUrl}/subjects/${encodeURIComponent(`${shadowTopicName(stack.prefix, 'topic')}-nextact.Decision`)}`, {
    method: 'DELETE',
  }).catch(() => undefined);
  await ctx?.close();
  await stack?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** Everything live a shadow run must not touch: every topic's watermarks, the groups and their offsets, the engine's stored state. */
async function liveSnapshot() {
  const topics = (await ctx.admin.listTopics()).filter((t) => t.startsWith(stack.prefix) && !t.includes('shadow-decisions')).sort();
  const marks = Object.fromEntries(await Promise.all(topics.map(async (t) => [t, await ctx.admin.watermarks(t)] as const)));
  const groups = (await ctx.admin.listGroups()).filter((g) => g.startsWith(stack.prefix)).sort();
  const offsets = await ctx.admin.groupOffsets(groupId(), stack.topics.customerEvents);
  const state: Record<number, [string, string][]> = {};
  const domain = createNbaDomain(loadPolicy(policyFile));
  for (let p = 0; p < 3; p++) {
    const fold = new PartitionFold(domain);
    await fold.restoreFromChangelog(ctx.kafka, ctx.admin, ctx.codec, stack.topics.journeyChangelog, p, silentLogger);
    state[p] = [...fold.contents()].sort(([a], [b]) => (a < b ? -1 : 1));
  }
  return { topics, marks, groups, offsets, state };
}

const range = { offsets: [0, 1, 2].map((partition) => ({ partition, from: '200' })) };

describe('replay shadow', () => {
  it('gives byte-identical JSON Lines and Avro output for the same range and policy, and leaves live topics, offsets and state untouched', async () => {
    const before = await liveSnapshot();
    expect(before.offsets.every((o) => BigInt(o.offset) > 0n)).toBe(true);
    expect(Object.values(before.state).some((s) => s.length > 10)).toBe(true);
    const out = (name: string) => join(dir, name);
    const shadowStarted = Date.now();
    const a = await runShadow(ctx, {
      policyFile,
      range,
      output: { file: out('a.jsonl'), format: 'jsonl' },
      run: 'a',
      progressFile: out('a.progress'),
      progress: false,
    });
    const b = await runShadow(ctx, {
      policyFile,
      range,
      output: { file: out('b.jsonl'), format: 'jsonl' },
      run: 'b',
      progressFile: out('b.progress'),
      progress: false,
    });
    const c = await runShadow(ctx, {
      policyFile,
      range,
      output: { file: out('c.avro'), format: 'avro' },
      run: 'c',
      progressFile: out('c.progress'),
      progress: false,
    });
    const d = await runShadow(ctx, {
      policyFile,
      range,
      output: { file: out('d.avro'), format: 'avro' },
      run: 'c',
      progressFile: out('d.progress'),
      progress: false,
    });
    expect(a.decisions).toBeGreaterThan(100);
    expect(b.decisions).toBe(a.decisions);
    const jsonA = readFileSync(out('a.jsonl'));
    expect(readFileSync(out('b.jsonl')).equals(jsonA)).toBe(true);
    expect(readFileSync(out('d.avro')).equals(readFileSync(out('c.avro')))).toBe(true);
    expect(c.decisions).toBe(a.decisions);
    expect(d.decisions).toBe(c.decisions);
    // Both formats carry the same decisions; decision time is the record's, not the clock's.
    const lines = jsonA
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(readAvroDecisions(readFileSync(out('c.avro')))).toEqual(lines);
    expect(lines.filter((l) => !(l.decisionTime > 0 && l.decisionTime < shadowStarted))).toEqual([]);
    // Records before offset 200 only warmed the state up: no decision is triggered by them.
    expect(a.eventsInRange).toBe(3000 - 3 * 200);

    const topic = await runShadow(ctx, { policyFile, range, output: { topic: true }, run: 'topic', progressFile: out('t.progress'), progress: false });
    const shadowMarks = await ctx.admin.watermarks(shadowTopicName(stack.prefix, 'topic'));
    expect(shadowMarks.reduce((n, m) => n + Number(BigInt(m.high) - BigInt(m.low)), 0)).toBe(topic.decisions);

    const after = await liveSnapshot();
    expect(after).toEqual(before);
  });

  it('resumes an interrupted run to the same bytes as an uninterrupted one', async () => {
    const whole = join(dir, 'whole.jsonl');
    await runShadow(ctx, { policyFile, range, output: { file: whole, format: 'jsonl' }, run: 'w', progressFile: join(dir, 'w.progress'), progress: false });
    const file = join(dir, 'resumed.jsonl');
    const progressFile = join(dir, 'r.progress');
    const interrupt = new Interrupt();
    let seen = 0;
    const opts = { policyFile, range, output: { file, format: 'jsonl' as const }, run: 'r', progressFile, progress: false, checkpointEveryMs: 0 };
    await expect(
      runShadow(ctx, {
        ...opts,
        interrupt,
        onDecisions: (_p, ds) => {
          seen += ds.length;
          if (seen > 150) interrupt.requested = true;
        },
      }),
    ).rejects.toThrow(Interrupted);
    const saved = JSON.parse(readFileSync(progressFile, 'utf8'));
    expect(saved.position.fold.current ?? saved.position.fold.done.length).toBeTruthy();
    const resumed = await runShadow(ctx, opts);
    expect(resumed.resumed).toBe(true);
    expect(readFileSync(file).equals(readFileSync(whole))).toBe(true);
  });

  it('refuses an empty range, an unknown topic and a malformed policy with what to fix', async () => {
    const output = { file: join(dir, 'x.jsonl'), format: 'jsonl' as const };
    await expect(runShadow(ctx, { policyFile, range: { offsets: [{ partition: 0, from: '999999' }] }, output, progress: false })).rejects.toThrow(
      /empty range/,
    );
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(policyFile, 'utf8').replace(/temperature: 1.0/, 'temperature: "hot"'));
    await expect(runShadow(ctx, { policyFile: bad, range, output, progress: false })).rejects.toThrow(/bad\.yaml:\d+:\d+: /);
    const other = await openContext({ env: stack.env, prefix: `${stack.prefix}nope.`, logger: silentLogger });
    try {
      await expect(runShadow(other, { policyFile, range, output, progress: false })).rejects.toThrow(/customer-events does not exist/);
    } finally {
      await other.close();
    }
  });
});

describe('replay diff', () => {
  it('finds no difference between the live decisions and the same policy over the same range', async () => {
    const r = await runDiff(ctx, { policyFile, range, progress: false });
    expect(r.compared).toBeGreaterThan(100);
    expect(r.examples).toEqual([]);
    expect({ changed: r.changed, onlyLive: r.onlyLive, onlyShadow: r.onlyShadow }).toEqual({ changed: 0, onlyLive: 0, onlyShadow: 0 });
    expect(r.same).toBe(r.compared);
  });

  it('counts what a changed policy changes, by action, stage and gate, with examples', async () => {
    const changed = join(dir, 'changed.yaml');
    writeFileSync(
      changed,
      readFileSync(policyFile, 'utf8')
        .replace(/version: "[^"]+"/, 'version: "replay-test"')
        .replace(/temperature: 1.0/, 'temperature: 0.05'),
    );
    const r = await runDiff(ctx, { policyFile: changed, range, progress: false, examples: 3 });
    expect(r.changed).toBeGreaterThan(0);
    expect(Object.values(r.byAction).reduce((a, b) => a + b, 0)).toBe(r.changed + r.onlyLive + r.onlyShadow);
    expect(Object.keys(r.byStage).length).toBeGreaterThan(0);
    expect(r.byField.probability).toBeGreaterThan(0);
    expect(r.examples).toHaveLength(3);
    expect(r.examples[0]!.live!.reasonCodes.length).toBeGreaterThan(0);
    expect(r.examples[0]!.shadow!.reasonCodes.length).toBeGreaterThan(0);
  });
});

describe('replay rebuild', () => {
  it('rebuilds the state the live engine has, journey for journey, and --verify says so', async () => {
    const outDir = join(dir, 'rebuilt');
    const r = await runRebuild(ctx, { policyFile, verify: true, outDir, progress: false });
    expect(r.journeys).toBeGreaterThan(30);
    expect(r.partitions.map((p) => p.journeys)).toEqual(r.partitions.map((p) => p.liveJourneys));
    expect(r.listed).toEqual([]);
    expect(r.differences).toBe(0);
    expect(JSON.parse(readFileSync(join(outDir, '0.json'), 'utf8')).journeys.length).toBe(r.partitions.find((p) => p.partition === 0)!.journeys);
  });

  it('reports every difference when the state does not match (another policy, or a cold start)', async () => {
    const changed = join(dir, 'changed-rebuild.yaml');
    writeFileSync(
      changed,
      readFileSync(policyFile, 'utf8')
        .replace(/version: "[^"]+"/, 'version: "rebuild-test"')
        .replace(/temperature: 1.0/, 'temperature: 0.05'),
    );
    const r = await runRebuild(ctx, { policyFile: changed, verify: true, progress: false, maxListed: 3 });
    expect(r.differences).toBeGreaterThan(0);
    expect(r.listed.length).toBeLessThanOrEqual(3 * r.partitions.length);
    expect(r.listed.every((d) => d.kind === 'different')).toBe(true);
    // Cold from a time in the middle: journeys of customers seen only before it are missing.
    const cold = await runRebuild(ctx, {
      policyFile,
      verify: true,
      progress: false,
      range: { time: { from: Date.UTC(2026, 0, 1, 0, 10), until: Date.UTC(2100, 0, 1) } },
    });
    expect(cold.differences).toBeGreaterThan(0);
    expect(cold.eventsInRange).toBeLessThan(3000);
  });
});
