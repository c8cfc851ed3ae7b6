/**
 * Exactly-once on the real broker: events stream in while the engine runs; every triggering event
 * has exactly one committed decision (read_committed), the committed sequence per partition equals
 * the reference fold, and the changelog (and, on lmdb, the store on disk + the changelog tail)
 * restores to the final state. On both stores.
 */
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ChangelogCodec } from '../../src/runtime/changelog';
import { EngineMetrics } from '../../src/runtime/metrics';
import { restorePartitions } from '../../src/runtime/restore';
import { PartitionStore } from '../../src/runtime/store';
import { openPartitionState, storeKinds } from '../../src/runtime/stores';
import { fakeDomain } from './fake-domain';
import {
  compareDecisions,
  counterTotal,
  decodeDecisions,
  foldLog,
  makeEvents,
  produceEvents,
  readTopic,
  startEngine,
  storeText,
  useTestStack,
  waitCaughtUp,
  waitFor,
} from './helpers';

jest.setTimeout(80_000);

describe.each(storeKinds)('engine runtime: exactly-once per batch (ENGINE_STORE=%s)', (store) => {
  const stack = useTestStack(`eos-${store}`, 3);

  it('commits exactly one decision per event and a changelog equal to the fold', async () => {
    const domain = fakeDomain();
    const groupId = `${stack.prefix}engine`;
    const events = makeEvents(1200, 40, 7);
    await produceEvents(stack, events.slice(0, 400));
    const { engine, metrics } = await startEngine(stack, domain, { groupId, instanceId: 'eos-1', checkpointIntervalMs: 0, store });
    try {
      await waitFor('readiness', () => engine.readiness().ready);
      // The rest arrives while the engine runs: many small transactions.
      for (let i = 400; i < events.length; i += 100) await produceEvents(stack, events.slice(i, i + 100));
      await waitCaughtUp(stack, groupId);

      const log = await readTopic(stack, stack.topics.customerEvents);
      const reference = await foldLog(stack, domain, log);
      const committed = await readTopic(stack, stack.topics.decisions);
      let total = 0;
      const seen = new Map<string, number>();
      for (const [p, records] of committed) {
        const decisions = await decodeDecisions(stack, records);
        compareDecisions(reference.get(p)!.decisions, decisions);
        for (const d of decisions) seen.set(d.triggerEventId, (seen.get(d.triggerEventId) ?? 0) + 1);
        total += decisions.length;
        // The live store equals the fold.
        expect(storeText(domain, engine.storeOf(p)!)).toBe(storeText(domain, reference.get(p)!.store));
      }
      for (const e of events) expect(seen.get(e.value.eventId)).toBe(1);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      const timerDecisions = [...seen.keys()].filter((k) => k.startsWith('timer:')).length;
      expect(timerDecisions).toBeGreaterThan(0);
      expect(total).toBe(events.length + timerDecisions);

      expect(await counterTotal(metrics, 'nextact_engine_decisions_total')).toBe(total);
      expect(await counterTotal(metrics, 'nextact_engine_events_total')).toBe(events.length);
      // One transaction per commit interval across partitions.
      const commits = await counterTotal(metrics, 'nextact_engine_transactions_total', { result: 'commit' });
      expect(commits).toBeGreaterThan(0);
      expect(await counterTotal(metrics, 'nextact_engine_gate_results_total', { gate: 'consent', result: 'failed' })).toBeGreaterThan(0);
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/nextact_engine_decision_latency_seconds_count \d+/);
      // Lag comes from the broker on the poller's own interval: wait for a poll after the commit.
      let lagText = text;
      for (let i = 0; i < 60 && !/nextact_engine_consumer_lag\{partition="0"\} 0\n/.test(lagText); i++) {
        await new Promise((r) => setTimeout(r, 250));
        lagText = await metrics.registry.metrics();
      }
      expect(lagText).toMatch(/nextact_engine_consumer_lag\{partition="0"\} 0\n/);

      // The changelog alone restores the final state; so does the lmdb store the engine left,
      // replaying only a short tail.
      await engine.stop();
      const admin = await stack.kafka.admin();
      try {
        for (const fromDisk of store === 'lmdb' ? [false, true] : [false]) {
          const stores = await Promise.all(
            [0, 1, 2].map(async (p) =>
              fromDisk
                ? new PartitionStore(
                    domain,
                    await openPartitionState({ kind: 'lmdb', dir: join(stack.stateDir, 'eos-1', groupId) }, p, new ChangelogCodec(domain).journeyValues),
                  )
                : new PartitionStore(domain),
            ),
          );
          try {
            if (fromDisk) for (const s of stores) expect(s.stored()).toBeDefined();
            const outcomes = await restorePartitions({
              kafka: stack.kafka,
              admin,
              changelogTopic: stack.topics.journeyChangelog,
              items: stores.map((store, partition) => ({ partition, store })),
              logger: stack.logger,
              metrics: new EngineMetrics(new Registry()),
            });
            for (const [p, store] of stores.entries()) {
              // Timers come from the records' timer-due headers, and agree with the fold's.
              const ref = reference.get(p)!.store;
              for (const [id] of ref.journeys.range()) expect(store.timers.dueOf(id)).toBe(ref.timers.dueOf(id));
              expect(storeText(domain, store)).toBe(storeText(domain, ref));
            }
            expect(outcomes.every((o) => o.fromStore === fromDisk)).toBe(true);
            if (fromDisk) expect(outcomes.reduce((n, o) => n + o.records, 0)).toBeLessThan(total);
          } finally {
            for (const s of stores) await s.close();
          }
        }
      } finally {
        await admin.close();
      }
    } finally {
      await engine.stop();
    }
  });
});
