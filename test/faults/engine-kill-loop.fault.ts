/**
 * Engine kill -9 loop (issue 14): events stream in while engine processes are killed with SIGKILL
 * at random moments (during start, restore, processing, mid-transaction), each followed by a new
 * process that restores from checkpoint + changelog. Afterwards: exactly one committed decision per
 * event, the decisions equal a one-pass fold of the log, and the changelog restores to the state
 * that fold rebuilds from scratch. CI: >= 10 kills; full run: >= 100.
 *
 * The engine's store is a parameter (FAULTS_ENGINE_STORES, comma-separated ENGINE_STORE values;
 * `default` leaves ENGINE_STORE unset), so the loop runs on every store the engine has.
 */
import { sleep } from '@nextact/core';
import { fakeDomain } from '../../services/engine/test/runtime/fake-domain';
import {
  decodeDecisions,
  type EngineChild,
  httpGet,
  makeEvents,
  produceEvents,
  readTopic,
  spawnEngineChild,
  type TestStack,
  testStack,
  verifyRun,
  waitCaughtUp,
} from '../../services/engine/test/runtime/helpers';
import { prng } from '../support/prng';
import { suiteStack } from './support/private-stack';
import { recordFault, sized, tally } from './support/record';
import { waitTransactionsSettled } from './support/transactions';

const KILLS = sized('FAULTS_ENGINE_KILLS', 10, 100);
const EVENTS = sized('FAULTS_ENGINE_EVENTS', 5_000, 40_000);
/** Longest a started engine works before its kill. */
const MAX_WORK_MS = sized('FAULTS_ENGINE_MAX_WORK_MS', 1_500, 2_500);
const stores = (process.env.FAULTS_ENGINE_STORES ?? 'default').split(',').map((s) => s.trim());

/** Duplicated decisions (timer ones included) and events without one, as a read_committed reader sees them now. */
async function countDecisions(stack: TestStack, events: { value: { eventId: string } }[]) {
  const committed = await readTopic(stack, stack.topics.decisions);
  const decisions = (await Promise.all([...committed.values()].map((records) => decodeDecisions(stack, records)))).flat();
  return tally(
    events.map((e) => e.value.eventId),
    decisions.map((d) => d.triggerEventId),
  );
}

describe.each(stores)('engine kill -9 loop (store %s)', (store) => {
  let stack: TestStack;
  const children: EngineChild[] = [];

  beforeAll(async () => {
    stack = await testStack(`fault-kill-${store}`, 4);
  });
  afterAll(async () => {
    for (const c of children) c.proc.kill('SIGKILL');
    // FAULTS_KEEP_TOPICS=1 leaves the topics to inspect a failure.
    if (!process.env.FAULTS_KEEP_TOPICS) await stack?.cleanup();
  });

  it(`${KILLS} kills at random points under load: one decision per event, state = rebuild from the log`, async () => {
    const t0 = Date.now();
    const rnd = prng(20261202);
    const groupId = `${stack.prefix}engine`;
    const events = makeEvents(EVENTS, 400, 14, 'k');
    const env: Record<string, string> = { ENGINE_CHECKPOINT_INTERVAL_MS: '500', ENGINE_SESSION_TIMEOUT_MS: '6000' };
    if (store !== 'default') env.ENGINE_STORE = store;

    // Load follows the loop: before each kill the producer is ahead of the engine, so every kill
    // lands with records waiting and transactions open.
    let kills = 0;
    let produced = 0;
    let producing = true;
    const producer = (async () => {
      while (produced < events.length && producing) {
        const target = Math.min(events.length, Math.ceil((events.length * (kills + 1)) / (KILLS + 1)));
        if (produced >= target) {
          await sleep(50);
          continue;
        }
        const next = Math.min(target, produced + 200);
        await produceEvents(stack, events.slice(produced, next));
        produced = next;
        await sleep(20);
      }
    })();

    try {
      while (kills < KILLS) {
        const child = spawnEngineChild(stack, `kill-${kills}`, env);
        children.push(child);
        // A random point: sometimes before it is up (start, join, restore), mostly while it works.
        const early = rnd() < 0.25;
        if (!early) await child.url.catch(() => {});
        await sleep(Math.floor(rnd() * (early ? 1_000 : MAX_WORK_MS)));
        child.proc.kill('SIGKILL');
        await child.exited;
        kills += 1;
      }
      await producer;
      expect(produced).toBe(events.length);

      // A last process runs to the end.
      const last = spawnEngineChild(stack, 'kill-final', env);
      children.push(last);
      const url = await last.url;
      await waitCaughtUp(stack, groupId, 180_000);
      const state = JSON.parse((await httpGet(`${url}/state`)).body) as { owned: number[] };
      expect(state.owned).toEqual([0, 1, 2, 3]);
      last.proc.kill('SIGTERM');
      expect(await last.exited).toBe(0);
    } finally {
      producing = false;
      await producer.catch(() => {});
    }

    // Killed processes leave transactions open until the broker times them out; read_committed
    // readers stop at the first one. Counted as they are now, and again once all have settled.
    const early = await countDecisions(stack, events);
    const openAtEnd = await waitTransactionsSettled(suiteStack().stackEnv, stack.env.KAFKA_BROKERS!, stack.prefix, 150_000);

    // Duplicates over every decision, timer decisions included (their ids are customer + due
    // time); lost over the events. Then the full check: the committed decisions, partition by
    // partition, equal a one-pass fold of the log, and the changelog restores to the fold's state.
    const committed = await readTopic(stack, stack.topics.decisions);
    const decisions = (await Promise.all([...committed.values()].map((records) => decodeDecisions(stack, records)))).flat();
    const counts = tally(
      events.map((e) => e.value.eventId),
      decisions.map((d) => d.triggerEventId),
    );
    const mismatch = await verifyRun(stack, fakeDomain(), events).then(
      () => undefined,
      (err: Error) => err,
    );
    recordFault(
      {
        name: `engine kill -9 loop (${store})`,
        faultsInjected: kills,
        eventsIn: events.length,
        decisionsOut: decisions.length,
        rowsSunk: 0,
        duplicates: counts.duplicates,
        lost: counts.lost,
        note: `${mismatch ? `FAILED: decisions or state differ from the fold of the log (${mismatch.message.split('\n').filter(Boolean).slice(0, 3).join(' ').slice(0, 160)})` : 'decisions = fold of the log, state = changelog restore = fold'}; ${openAtEnd} transactions of killed engines open at the end (read before they settled: duplicates ${early.duplicates}, lost ${early.lost})`,
      },
      t0,
    );
    expect(counts.duplicates).toBe(0);
    expect(counts.lost).toBe(0);
    if (mismatch) throw mismatch;
  });
});
