/**
 * The cut-over to a new policy version on the real broker: the old version decides the first part
 * of the log, the new one (same group, restored journeys) the rest. Each part's live decisions must
 * equal what that version decides over it (diff: zero differences, the new version's state warmed
 * up by the old one), and no trigger may be decided twice.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Decision, silentLogger } from '@nextact/core';
import { createNbaDomain, loadPolicy } from '@nextact/engine';
import { decodeDecisions, makeEvents, produceEvents, readTopic, startEngine, type TestStack, testStack, waitCaughtUp } from '../../engine/test/runtime/helpers';
import { openContext, type ReplayContext } from '../src/context';
import { runDiff } from '../src/diff';
import { planReprocess } from '../src/reprocess';

jest.setTimeout(110_000);

const oldPolicy = join(__dirname, '../../engine/policy/policy.yaml');
let stack: TestStack;
let ctx: ReplayContext;
let dir: string;

beforeAll(async () => {
  stack = await testStack('replay-cut', 3);
  dir = mkdtempSync(join(tmpdir(), 'nextact-replay-cut-'));
  ctx = await openContext({ env: stack.env, logger: silentLogger });
});

afterAll(async () => {
  await ctx?.close();
  await stack?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('switches to a new policy version at the committed offsets with nothing lost or doubled', async () => {
  const newPolicy = join(dir, 'new.yaml');
  writeFileSync(
    newPolicy,
    readFileSync(oldPolicy, 'utf8')
      .replace(/version: "[^"]+"/, 'version: "cutover-v2"')
      .replace(/temperature: 1.0/, 'temperature: 0.2'),
  );
  const events = makeEvents(3000, 60, 21);
  const groupId = `${stack.prefix}engine`;
  await produceEvents(stack, events.slice(0, 1500), 500);
  const v1 = await startEngine(stack, createNbaDomain(loadPolicy(oldPolicy)), { groupId, instanceId: 'v1' });
  try {
    await waitCaughtUp(stack, groupId, 60_000);
    await expect(planReprocess(ctx, { policyFile: newPolicy, progress: false })).rejects.toThrow(/active member.*stop the engine first/);
  } finally {
    await v1.engine.stop();
  }
  const plan = await planReprocess(ctx, { policyFile: newPolicy, fromTime: Date.UTC(2026, 0, 1, 0, 5), progress: false });
  const committed = await ctx.admin.groupOffsets(groupId, stack.topics.customerEvents);
  expect(plan.cut.map((c) => c.offset)).toEqual(committed.map((c) => c.offset));
  expect(plan.backlog).toBe(0);
  expect(plan.diff!.changed).toBeGreaterThan(0); // the new version would decide otherwise

  const v2 = await startEngine(stack, createNbaDomain(loadPolicy(newPolicy)), { groupId, instanceId: 'v2' });
  try {
    await produceEvents(stack, events.slice(1500), 500);
    await waitCaughtUp(stack, groupId, 60_000);
  } finally {
    await v2.engine.stop();
  }

  const before = plan.cut.map((c) => ({ partition: c.partition, until: c.offset }));
  const after = plan.cut.map((c) => ({ partition: c.partition, from: c.offset }));
  const oldPart = await runDiff(ctx, { policyFile: oldPolicy, range: { offsets: before }, progress: false });
  const newPart = await runDiff(ctx, { policyFile: newPolicy, warmupPolicyFile: oldPolicy, range: { offsets: after }, progress: false });
  for (const part of [oldPart, newPart]) {
    expect(part.compared).toBeGreaterThan(100);
    expect({ changed: part.changed, onlyLive: part.onlyLive, onlyShadow: part.onlyShadow }).toEqual({ changed: 0, onlyLive: 0, onlyShadow: 0 });
  }
  // Without the old version's warm-up the new version's state would differ: the check has teeth.
  const unwarmed = await runDiff(ctx, { policyFile: newPolicy, range: { offsets: after }, progress: false });
  expect(unwarmed.changed + unwarmed.onlyLive + unwarmed.onlyShadow).toBeGreaterThan(0);

  const all: Decision[] = [];
  for (const records of (await readTopic(stack, stack.topics.decisions)).values()) all.push(...(await decodeDecisions(stack, records)));
  const perTrigger = new Map<string, number>();
  for (const d of all) perTrigger.set(d.triggerEventId, (perTrigger.get(d.triggerEventId) ?? 0) + 1);
  expect([...perTrigger].filter(([, n]) => n > 1)).toEqual([]);
  const versions = new Set(all.map((d) => d.policyVersion));
  expect(versions).toEqual(new Set(['2026-11-23.4', 'cutover-v2']));
  expect(oldPart.compared + newPart.compared).toBe(all.length);
});
