/**
 * Rebalance: two instances share the group, then one stops; the survivor restores the moved
 * partitions from the changelog (separate state folders: no shared store) and no decision is
 * lost or duplicated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '@nextact/core';
import { storeKinds } from '../../src/runtime/stores';
import { type CounterJourney, type CounterLearner, fakeDomain } from './fake-domain';
import { counterTotal, makeEvents, produceEvents, startEngine, storeText, useTestStack, verifyRun, waitCaughtUp, waitFor } from './helpers';

jest.setTimeout(85_000);

describe.each(storeKinds)('engine runtime: rebalance (ENGINE_STORE=%s)', (store) => {
  const stack = useTestStack(`rebalance-${store}`, 4);
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('moves partitions with their state and keeps exactly-once', async () => {
    const domain = fakeDomain();
    const groupId = `${stack.prefix}engine`;
    const events = makeEvents(2400, 50, 23);
    const dirA = mkdtempSync(join(tmpdir(), 'engine-a-'));
    const dirB = mkdtempSync(join(tmpdir(), 'engine-b-'));
    dirs.push(dirA, dirB);

    await produceEvents(stack, events.slice(0, 600));
    const a = await startEngine(stack, domain, { groupId, instanceId: 'rb-a', stateDir: dirA, store });
    let bRun: Awaited<ReturnType<typeof startEngine<CounterJourney, CounterLearner>>> | undefined;
    try {
      await waitFor('a ready with all partitions', () => a.engine.readiness().ready && a.engine.status().owned.length === 4);
      const started = await startEngine(stack, domain, { groupId, instanceId: 'rb-b', stateDir: dirB, store });
      bRun = started;
      const bEngine = started.engine;
      await waitFor(
        'partitions split between a and b',
        () => bEngine.status().owned.length > 0 && a.engine.status().owned.length > 0 && bEngine.readiness().ready,
        40_000,
      );
      const ownedByA = a.engine.status().owned;
      await produceEvents(stack, events.slice(600, 1500));
      await sleep(300);
      // The rest streams in while a leaves.
      const streaming = (async () => {
        for (let i = 1500; i < events.length; i += 100) {
          await produceEvents(stack, events.slice(i, i + 100));
          await sleep(30);
        }
      })();
      await a.engine.stop();
      await waitFor('b owns every partition', () => bEngine.status().owned.length === 4 && bEngine.readiness().ready, 40_000);
      await streaming;
      await waitCaughtUp(stack, groupId, 45_000);

      const { reference } = await verifyRun(stack, domain, events);
      for (let p = 0; p < 4; p++) expect(storeText(domain, bEngine.storeOf(p)!)).toBe(storeText(domain, reference.get(p)!.store));
      // b restored a's partitions from the changelog (its own folder had no checkpoint of them).
      expect(ownedByA.length).toBeGreaterThan(0);
      expect(await counterTotal(started.metrics, 'nextact_engine_restored_records_total')).toBeGreaterThan(0);
    } finally {
      await a.engine.stop();
      await bRun?.engine.stop();
    }
  });
});
