/**
 * Crash recovery, on both stores: an engine process is killed with SIGKILL while events stream in
 * (its open transaction is left to be aborted by the next owner's fencing), a new process takes over
 * — on lmdb from the store it left on disk plus the changelog tail, in memory from the whole
 * changelog — and afterwards every event has exactly one committed decision and the state equals
 * the fold of the whole log.
 */
import { join } from 'node:path';
import { sleep } from '@nextact/core';
import { peekStoredOffset, storeKinds } from '../../src/runtime/stores';
import { fakeDomain } from './fake-domain';
import {
  changelogMarks,
  committedTotal,
  httpGet,
  makeEvents,
  produceEvents,
  spawnEngineChild,
  useTestStack,
  verifyRun,
  waitCaughtUp,
  waitFor,
} from './helpers';

jest.setTimeout(85_000);

describe.each(storeKinds)('engine runtime: crash recovery (ENGINE_STORE=%s)', (store) => {
  const stack = useTestStack(`crash-${store}`, 4);

  it('loses and duplicates nothing across kill -9 and restart', async () => {
    const groupId = `${stack.prefix}engine`;
    const events = makeEvents(3000, 60, 11);
    await produceEvents(stack, events.slice(0, 600));
    const env = { ENGINE_CHECKPOINT_INTERVAL_MS: '200', ENGINE_STORE: store };

    const first = spawnEngineChild(stack, 'crash-a', env);
    let second: ReturnType<typeof spawnEngineChild> | undefined;
    let streaming: Promise<void> | undefined;
    try {
      await first.url;
      // Stream the rest while the first process works.
      streaming = (async () => {
        for (let i = 600; i < events.length; i += 100) {
          await produceEvents(stack, events.slice(i, i + 100));
          await sleep(40);
        }
      })();
      // Killed once it has committed batches (lmdb: and every store's offset moved past the start,
      // so the restart can read only a tail).
      const stored = () => Promise.all([0, 1, 2, 3].map((p) => peekStoredOffset(join(stack.stateDir, groupId, String(p)))));
      const moved = async () => store === 'memory' || (await stored()).every((o) => o !== undefined && BigInt(o) > 0n);
      await waitFor('first process to commit some batches', async () => (await committedTotal(stack, groupId)) >= 800n && (await moved()), 40_000);
      first.proc.kill('SIGKILL');
      expect(await first.exited).toBeNull(); // killed by the signal, no exit code
      // The changelog as the kill left it: what a restart from the start would read, and from the stores.
      const marks = await changelogMarks(stack);
      const offsets = await stored();
      const whole = marks.reduce((n, m) => n + (BigInt(m.high) - BigInt(m.low)), 0n);
      const tail = marks.reduce((n, m) => n + (BigInt(m.high) - BigInt(offsets[m.partition] ?? m.low)), 0n);

      second = spawnEngineChild(stack, 'crash-b', env);
      const url = await second.url;
      await streaming;
      await waitCaughtUp(stack, groupId, 50_000);
      const ready = await httpGet(`${url}/readyz`);
      expect(ready.status).toBe(200);
      const state = JSON.parse((await httpGet(`${url}/state`)).body) as { owned: number[] };
      expect(state.owned).toEqual([0, 1, 2, 3]);
      const metrics = (await httpGet(`${url}/metrics`)).body;
      expect(metrics).toMatch(/nextact_engine_restore_duration_seconds_count\{service="engine"\} [1-9]/);
      const restored = BigInt(/nextact_engine_restored_records_total\{service="engine"\} (\d+)/.exec(metrics)?.[1] ?? '-1');
      // lmdb replays only the tail after its stored offsets (markers and aborted records make
      // offsets an upper bound on records); memory the whole changelog.
      if (store === 'lmdb') {
        expect(restored).toBeLessThanOrEqual(tail);
        expect(tail).toBeLessThan(whole);
      } else {
        expect(restored).toBeGreaterThan(0n);
      }
      second.proc.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      first.proc.kill('SIGKILL');
      second?.proc.kill('SIGKILL');
      // Never leave the producer loop running into the next suite (it kept jest from exiting once).
      await streaming?.catch(() => {});
    }

    const { decisions } = await verifyRun(stack, fakeDomain(), events);
    expect(decisions).toBeGreaterThan(events.length);
  });
});
