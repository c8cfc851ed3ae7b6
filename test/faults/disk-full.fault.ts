/**
 * Disk full for the engine's persistent store (issue 14, ENGINE_STORE=lmdb): the engine's state
 * folder is a tmpfs of a few MB in a private mount namespace (support/small-disk.ts), filled with a
 * ballast file while events stream in for customers the store has not seen (so it must grow).
 *
 *   1. Full while running: the lmdb commit after a committed Kafka transaction fails (ENOSPC/EIO),
 *      the partition is released and its reopen fails with retriable NXA_STORE, which /readyz
 *      names; input waits (offsets stop moving). The ballast goes; the same process reopens the
 *      partition from its store and the changelog tail, by itself, and catches up.
 *   2. Full, then kill -9: a new process on the same disk, once space is back, restores and
 *      catches up.
 *
 * Afterwards: exactly one committed decision per event, the decisions equal a one-pass fold of the
 * log, and the changelog restores to the state that fold rebuilds from scratch. Without user and
 * mount namespaces (no unshare/nsenter, or not allowed) the fault is reported as not run.
 */

import type { CustomerEvent } from '@nextact/core';
import { sleep } from '@nextact/core';
import { fakeDomain } from '../../services/engine/test/runtime/fake-domain';
import {
  committedTotal,
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
  waitFor,
} from '../../services/engine/test/runtime/helpers';
import { recordFault, sized, tally } from './support/record';
import { type SmallDisk, smallDisk, smallDiskUnavailable } from './support/small-disk';

const EVENTS = sized('FAULTS_DISK_EVENTS', 4_500, 15_000);
/** The tmpfs: room for the first phase's store, little more. */
const DISK_MB = sized('FAULTS_DISK_MB', 8, 16);
const unavailable = smallDiskUnavailable();

/** The /readyz reason while it names a store failure. */
async function storeFailure(url: string): Promise<string | undefined> {
  const res = await httpGet(`${url}/readyz`).catch(() => undefined);
  if (!res || res.status === 200) return undefined;
  const reason = (JSON.parse(res.body) as { reason?: string }).reason ?? '';
  return reason.includes('NXA_STORE') ? reason : undefined;
}

describe('disk full under the lmdb store', () => {
  let stack: TestStack;
  let disk: SmallDisk | undefined;
  const children: EngineChild[] = [];

  beforeAll(async () => {
    stack = await testStack('fault-disk', 4);
  });
  afterAll(async () => {
    for (const c of children) c.proc.kill('SIGKILL');
    await disk?.close();
    await stack?.cleanup();
  });

  it('fails the store cleanly with NXA_STORE on /readyz, waits, and recovers with nothing lost or duplicated', async () => {
    const t0 = Date.now();
    if (unavailable) {
      recordFault(
        { name: 'disk full (lmdb)', faultsInjected: 0, eventsIn: 0, decisionsOut: 0, rowsSunk: 0, duplicates: 0, lost: 0, note: `not run: ${unavailable}` },
        t0,
      );
      return;
    }
    disk = await smallDisk(DISK_MB);
    const groupId = `${stack.prefix}engine`;
    // Three phases of customers the store has not seen: each phase makes it grow.
    const third = Math.floor(EVENTS / 3);
    const events: CustomerEvent[] = makeEvents(EVENTS, Math.floor(EVENTS / 4), 41, 'd').map((e, i) => {
      const phase = Math.min(2, Math.floor(i / third));
      return { ...e, value: { ...e.value, customerId: `p${phase}-${e.value.customerId}` } } as CustomerEvent;
    });
    const phases = [events.slice(0, third), events.slice(third, 2 * third), events.slice(2 * third)];
    const env = { ENGINE_STORE: 'lmdb', ENGINE_STATE_DIR: disk.dir, ENGINE_CHECKPOINT_INTERVAL_MS: '500' };
    const start = (name: string) => {
      const child = spawnEngineChild(stack, name, env, disk!.launcher);
      children.push(child);
      return child;
    };
    const notes: string[] = [];

    let engine = start('disk-0');
    let url = await engine.url;
    await produceEvents(stack, phases[0]!);
    await waitCaughtUp(stack, groupId, 120_000);

    // 1. Full while running.
    let ballast = disk.fill();
    await produceEvents(stack, phases[1]!);
    let reason: string | undefined;
    await waitFor(
      'the engine to report its store failure on /readyz',
      async () => {
        reason = await storeFailure(url);
        return reason !== undefined;
      },
      90_000,
    );
    expect(reason).toMatch(/NXA_STORE .*\(disk full or failing\)/);
    const heldAt = await committedTotal(stack, groupId);
    await sleep(3_000);
    const heldAfter = await committedTotal(stack, groupId);
    // The summary shows the error without the folder's path.
    const cause = reason!
      .slice(reason!.indexOf('NXA_STORE'))
      .replace(/(^|\s)\/\S+/g, '$1…')
      .slice(0, 120);
    notes.push(
      `full #1 (${Math.round(ballast / 1024)} KiB ballast): /readyz "${cause}", input ${heldAfter === heldAt ? 'held' : `moved ${heldAfter - heldAt}`} over 3 s`,
    );
    disk.free();
    await waitFor('the same engine to be ready again', async () => (await httpGet(`${url}/readyz`)).status === 200, 90_000);
    await waitCaughtUp(stack, groupId, 120_000);

    // 2. Full, then kill -9; a new process once the space is back.
    ballast = disk.fill();
    await produceEvents(stack, phases[2]!);
    reason = undefined;
    await waitFor(
      'the engine to report its store failure again',
      async () => {
        reason = await storeFailure(url);
        return reason !== undefined;
      },
      90_000,
    );
    engine.proc.kill('SIGKILL');
    await engine.exited;
    disk.free();
    notes.push(`full #2 (${Math.round(ballast / 1024)} KiB): kill -9 while full, restarted on the same store`);
    engine = start('disk-1');
    url = await engine.url;
    await waitCaughtUp(stack, groupId, 120_000);
    const state = JSON.parse((await httpGet(`${url}/state`)).body) as { owned: number[] };
    expect(state.owned).toEqual([0, 1, 2, 3]);
    engine.proc.kill('SIGTERM');
    expect(await engine.exited).toBe(0);

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
        name: 'disk full (lmdb)',
        faultsInjected: 2,
        eventsIn: events.length,
        decisionsOut: decisions.length,
        rowsSunk: 0,
        duplicates: counts.duplicates,
        lost: counts.lost,
        note: `${notes.join('; ')}; ${mismatch ? `FAILED: ${mismatch.message.split('\n').filter(Boolean).slice(0, 2).join(' ').slice(0, 160)}` : 'decisions = fold of the log, state = changelog restore = fold'}`,
      },
      t0,
    );
    expect(counts.duplicates).toBe(0);
    expect(counts.lost).toBe(0);
    if (mismatch) throw mismatch;
  });
});
