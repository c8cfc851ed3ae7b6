/**
 * Determinism: the same events in the same order through two fresh runs (own prefixes and groups;
 * large batches on the in-memory store in one, tiny batches on lmdb in the other) give byte-identical decisions per partition
 * apart from decisionTime — timers fire on stream time, never on batch boundaries or the clock.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DecisionDomain } from '../../src/domain';
import type { StoreKind } from '../../src/runtime/stores';
import { fakeDomain } from './fake-domain';
import { canonicalDecision, decodeDecisions, makeEvents, produceEvents, readTopic, startEngine, type TestStack, testStack, waitCaughtUp } from './helpers';

jest.setTimeout(85_000);

async function run<J, L>(
  stack: TestStack,
  domain: DecisionDomain<J, L>,
  events: ReturnType<typeof makeEvents>,
  produceChunk: number,
  store: StoreKind,
  maxBytesPerPartition?: number,
) {
  // Small producer requests make small record batches, which small fetches then return one or two at a time.
  await produceEvents(stack, events, produceChunk);
  const groupId = `${stack.prefix}engine`;
  const { engine, metrics } = await startEngine(stack, domain, { groupId, instanceId: `det-${maxBytesPerPartition ?? 'big'}`, maxBytesPerPartition, store });
  try {
    await waitCaughtUp(stack, groupId, 60_000);
  } finally {
    await engine.stop();
  }
  const out = new Map<number, string[]>();
  for (const [p, records] of await readTopic(stack, stack.topics.decisions)) {
    out.set(
      p,
      (await decodeDecisions(stack, records)).map((d) => canonicalDecision(d).toString('hex')),
    );
  }
  const commits =
    (await metrics.registry.getSingleMetric('nextact_engine_transactions_total')?.get())?.values.find((v) => v.labels.result === 'commit')?.value ?? 0;
  return { decisions: out, commits };
}

async function compareRuns<J, L>(makeDomain: () => DecisionDomain<J, L>, name: string) {
  const events = makeEvents(1500, 30, 5);
  const one = await testStack(`${name}1`, 3);
  const two = await testStack(`${name}2`, 3);
  try {
    // Large batches on the in-memory store, tiny ones on lmdb: neither batching nor store may matter.
    const a = await run(one, makeDomain(), events, 1_500, 'memory');
    const b = await run(two, makeDomain(), events, 5, 'lmdb', 1_024);
    // Different batching really happened ...
    expect(b.commits).toBeGreaterThan(a.commits * 3);
    // ... and changed nothing.
    let total = 0;
    for (let p = 0; p < 3; p++) {
      expect(a.decisions.get(p)!.length).toBeGreaterThan(0);
      expect(b.decisions.get(p)).toEqual(a.decisions.get(p));
      total += a.decisions.get(p)!.length;
    }
    return total;
  } finally {
    await one.cleanup();
    await two.cleanup();
  }
}

describe('engine runtime: determinism', () => {
  it('gives identical decisions for the same log with the fake domain', async () => {
    expect(await compareRuns(fakeDomain, 'det')).toBeGreaterThan(1500);
  });

  const policyFile = join(__dirname, '../../policy/policy.yaml');
  (existsSync(policyFile) ? it : it.skip)('gives identical decisions for the same log with the NBA domain and policy', async () => {
    const { createNbaDomain } = await import('../../src/nba');
    const { loadPolicy } = await import('../../src/policy/load');
    const policy = loadPolicy(policyFile);
    expect(await compareRuns(() => createNbaDomain(policy), 'detnba')).toBeGreaterThan(0);
  });
});
