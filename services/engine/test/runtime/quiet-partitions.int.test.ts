/**
 * Partitions without input: nothing may wait for a batch that never comes.
 *
 * Opening a partition retries on its own after a failure (right after topic creation the broker
 * may not know a changelog leader yet), instead of waiting for the partition's next batch.
 *
 * Timers on quiet partitions. Stream time only moves with input, so without ENGINE_IDLE_ADVANCE_MS
 * a timer whose partition goes quiet waits for the next event; with it, the wall clock moves
 * stream time after the idle period and the timer decisions are committed in their own transaction
 * (also after a restart, from timers rebuilt out of the changelog).
 */
import type { Decision } from '@nextact/core';
import { fakeDomain, INACTIVITY_MS } from './fake-domain';
import { decodeDecisions, makeEvents, produceEvents, readTopic, startEngine, useTestStack, waitCaughtUp, waitFor } from './helpers';

jest.setTimeout(90_000);

describe('engine runtime: quiet partitions', () => {
  const stack = useTestStack('idle', 1);

  const committedDecisions = async (): Promise<Decision[]> => decodeDecisions(stack, (await readTopic(stack, stack.topics.decisions)).get(0) ?? []);
  const timerDecisions = (ds: Decision[]) => ds.filter((d) => d.triggerType === 'TIMER');

  it('fire only with input when off, and after the idle period when on', async () => {
    const groupId = `${stack.prefix}engine`;
    // Event times a little over the fake domain's inactivity period in the past: every timer is due
    // by the wall clock, none by stream time (the newest event).
    const now = Date.now();
    const events = makeEvents(6, 3, 7).map((e, i) => ({ ...e, value: { ...e.value, eventTime: now - INACTIVITY_MS - 30_000 + i * 1_000 } })) as ReturnType<
      typeof makeEvents
    >;
    const customers = new Set(events.map((e) => e.value.customerId));

    const off = await startEngine(stack, fakeDomain(), { groupId, instanceId: 'idle-off' });
    await produceEvents(stack, events);
    await waitCaughtUp(stack, groupId);
    await new Promise((r) => setTimeout(r, 2_500));
    await off.engine.stop();
    expect(timerDecisions(await committedDecisions())).toEqual([]);

    // Restarted with the setting: the timers come back from the changelog and fire without input.
    const on = await startEngine(stack, fakeDomain(), { groupId, instanceId: 'idle-on', idleAdvanceMs: 1_000 });
    try {
      await waitFor('timer decisions', async () => timerDecisions(await committedDecisions()).length >= customers.size, 30_000);
      const all = await committedDecisions();
      const timers = timerDecisions(all);
      expect(new Set(timers.map((d) => d.customerId))).toEqual(customers);
      expect(all.length).toBe(events.length + customers.size); // nothing twice
      // Each at its due time (last event + inactivity), not at the wall clock that noticed it.
      for (const d of timers) {
        const last = Math.max(...events.filter((e) => e.value.customerId === d.customerId).map((e) => e.value.eventTime));
        expect(d.eventTime).toBe(last + INACTIVITY_MS);
      }
      expect(on.engine.status().partitions[0]!.streamTime).toBeGreaterThan(Math.max(...events.map((e) => e.value.eventTime)));
    } finally {
      await on.engine.stop();
    }
  });

  it('retry a failed open without waiting for input', async () => {
    const groupId = `${stack.prefix}engine-open`;
    const events = makeEvents(20, 4, 9, 'open');
    const first = await startEngine(stack, fakeDomain(), { groupId, instanceId: 'open-a', stateDir: undefined });
    await produceEvents(stack, events);
    await waitCaughtUp(stack, groupId);
    await first.engine.stop();

    // The next owner's first restore fails (its learner read throws: journeys carry their timer and
    // are not decoded by a restore); no input follows.
    let failures = 0;
    const base = fakeDomain();
    const flaky = {
      ...base,
      deserialiseLearner: (bytes: Buffer) => {
        if (failures === 0) {
          failures++;
          throw new Error('restore failed once on purpose');
        }
        return base.deserialiseLearner(bytes);
      },
    };
    const second = await startEngine(stack, flaky, { groupId, instanceId: 'open-b', stateDir: undefined });
    try {
      await waitFor('the partition restored after the failed open', () => second.engine.readiness().ready, 20_000);
      expect(failures).toBe(1);
      expect(second.engine.status().partitions[0]).toMatchObject({ restored: true, journeys: new Set(events.map((e) => e.value.customerId)).size });
    } finally {
      await second.engine.stop();
    }
  });
});
