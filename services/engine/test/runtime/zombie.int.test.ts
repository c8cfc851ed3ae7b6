/**
 * A zombie instance: two engine processes share the load, one is frozen (SIGSTOP) past its session
 * timeout while events stream in, so the group gives its partitions to the other, whose producer
 * init fences it. Resumed (SIGCONT), the zombie finishes the batch it was in and tries to commit:
 * that commit is fenced, and afterwards every event has exactly one committed decision.
 */
import { sleep } from '@nextact/core';
import { storeKinds } from '../../src/runtime/stores';
import { fakeDomain } from './fake-domain';
import { httpGet, makeEvents, produceEvents, spawnEngineChild, useTestStack, verifyRun, waitCaughtUp, waitFor } from './helpers';

jest.setTimeout(110_000);

const owned = async (url: string) => (JSON.parse((await httpGet(`${url}/state`)).body) as { owned: number[] }).owned;
const aborts = async (url: string) => {
  const m = /nextact_engine_transactions_total\{[^}]*result="abort"[^}]*\} (\d+)/.exec((await httpGet(`${url}/metrics`)).body);
  return m ? Number(m[1]) : 0;
};

describe.each(storeKinds)('engine runtime: zombie instance (ENGINE_STORE=%s)', (store) => {
  const stack = useTestStack(`zombie-${store}`, 4);

  it('fences the late commit of an instance frozen past its session timeout, and nothing is lost or duplicated', async () => {
    const groupId = `${stack.prefix}engine`;
    const events = makeEvents(4000, 80, 31);
    await produceEvents(stack, events.slice(0, 600));
    // Both in one state folder, as two engines on one host: on lmdb the survivor waits for the
    // zombie's hold on a partition's store (owner.pid) to end before it opens it.
    const zombie = spawnEngineChild(stack, 'zombie-a', { ENGINE_STORE: store });
    let survivor: ReturnType<typeof spawnEngineChild> | undefined;
    let streaming: Promise<void> | undefined;
    let stopped = false;
    try {
      const zombieUrl = await zombie.url;
      await waitFor('the first instance to own everything', async () => (await owned(zombieUrl)).length === 4, 30_000);
      survivor = spawnEngineChild(stack, 'zombie-b', { ENGINE_STORE: store });
      const survivorUrl = await survivor.url;
      await waitFor('both instances to share', async () => (await owned(survivorUrl)).length > 0 && (await owned(zombieUrl)).length > 0, 40_000);
      streaming = (async () => {
        for (let i = 600; i < events.length && !stopped; i += 100) {
          await produceEvents(stack, events.slice(i, i + 100));
          await sleep(40);
        }
      })();
      await sleep(1_500); // the zombie is busy with batches now
      const abortsBefore = await aborts(zombieUrl);
      zombie.proc.kill('SIGSTOP');
      // Session timeout 6 s: the group moves everything to the survivor, whose producer init fences the zombie.
      await waitFor('the survivor to own everything', async () => (await owned(survivorUrl)).length === 4, 40_000);
      zombie.proc.kill('SIGCONT');
      await waitFor('the zombie commit to be fenced (aborted)', async () => (await aborts(zombieUrl)) > abortsBefore, 30_000);
      expect(zombie.stderr.join('')).toMatch(/fenced: another instance owns this partition now.*NXA_KAFKA_(FENCED|STALE_MEMBER)/);
      await streaming;
      await waitCaughtUp(stack, groupId, 60_000);
      survivor.proc.kill('SIGTERM');
      zombie.proc.kill('SIGTERM');
      expect(await survivor.exited).toBe(0);
      expect(await zombie.exited).toBe(0);
    } finally {
      stopped = true;
      zombie.proc.kill('SIGCONT');
      zombie.proc.kill('SIGKILL');
      survivor?.proc.kill('SIGKILL');
      await streaming?.catch(() => {});
    }
    await verifyRun(stack, fakeDomain(), events);
  });
});
