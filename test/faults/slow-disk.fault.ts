/**
 * Slow disk for the engine's persistent store (issue 14, ENGINE_STORE=lmdb): the engine runs with
 * support/slow-io.c preloaded, so every positioned write and sync of its process (lmdb's page
 * writes and fdatasync) waits SLOW_IO_MS first; its Kafka and HTTP traffic (sockets) keep their
 * speed. The store commit is synchronous on the engine's thread, so a slow disk makes every batch
 * slower and blocks the event loop while it writes.
 *
 *   1. A normal engine takes the first third of the events (the baseline rate).
 *   2. It stops; a slow-disk engine takes the second third: it must stay ready and in its group
 *      (/readyz sampled throughout) and catch up, only slower.
 *   3. The slow engine is killed with SIGKILL while it works (likely inside a slow commit); a
 *      normal engine restores from the same store and the changelog and takes the last third.
 *
 * Afterwards: exactly one committed decision per event, decisions = fold of the log, changelog
 * restore = fold. Without a C compiler (cc) to build the shim the fault is reported as not run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  waitFor,
} from '../../services/engine/test/runtime/helpers';
import { recordFault, sized, tally } from './support/record';

const EVENTS = sized('FAULTS_SLOW_DISK_EVENTS', 3_000, 12_000);
/** Added to every positioned write and sync of the engine's process. */
const SLOW_IO_MS = sized('FAULTS_SLOW_DISK_MS', 50, 100);
const compiler = spawnSync('sh', ['-c', 'command -v cc']).status === 0;

describe('slow disk under the lmdb store', () => {
  let stack: TestStack;
  const children: EngineChild[] = [];
  const buildDir = mkdtempSync(join(tmpdir(), 'nextact-slow-io-'));

  beforeAll(async () => {
    stack = await testStack('fault-slow-disk', 4);
  });
  afterAll(async () => {
    for (const c of children) c.proc.kill('SIGKILL');
    rmSync(buildDir, { recursive: true, force: true });
    await stack?.cleanup();
  });

  it('stays ready and in its group, catches up more slowly, survives kill -9 mid-commit, loses and duplicates nothing', async () => {
    const t0 = Date.now();
    const name = 'slow disk (lmdb)';
    if (!compiler) {
      recordFault(
        {
          name,
          faultsInjected: 0,
          eventsIn: 0,
          decisionsOut: 0,
          rowsSunk: 0,
          duplicates: 0,
          lost: 0,
          note: 'not run: no C compiler (cc) for the slow-io shim',
        },
        t0,
      );
      return;
    }
    const shim = join(buildDir, 'slow-io.so');
    execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', shim, join(__dirname, 'support', 'slow-io.c'), '-ldl']);
    const groupId = `${stack.prefix}engine`;
    const events = makeEvents(EVENTS, Math.floor(EVENTS / 5), 43, 's');
    const third = Math.floor(EVENTS / 3);
    const phases = [events.slice(0, third), events.slice(third, 2 * third), events.slice(2 * third)];
    const env = { ENGINE_STORE: 'lmdb', ENGINE_CHECKPOINT_INTERVAL_MS: '500' };
    const start = (id: string, slow: boolean) => {
      const child = spawnEngineChild(stack, id, slow ? { ...env, LD_PRELOAD: shim, SLOW_IO_MS: String(SLOW_IO_MS) } : env);
      children.push(child);
      return child;
    };
    /** Produces the events to a ready engine and times its catch-up. */
    const timedPhase = async (url: string, phase: CustomerEventList) => {
      await waitReady(url);
      const started = Date.now();
      await produceEvents(stack, phase);
      await waitCaughtUp(stack, groupId, 240_000);
      return (Date.now() - started) / 1000;
    };

    // 1. Baseline.
    let engine = start('slow-0', false);
    const baseUrl = await engine.url;
    const baseSeconds = await timedPhase(baseUrl, phases[0]!);
    const baseLatency = await meanDecisionLatency(baseUrl);
    engine.proc.kill('SIGTERM');
    expect(await engine.exited).toBe(0);

    // 2. Slow disk: ready throughout, catches up.
    engine = start('slow-1', true);
    const url = await engine.url;
    // The shim is in the engine's process (not silently ignored by the loader).
    expect(readFileSync(`/proc/${engine.proc.pid}/maps`, 'utf8')).toContain(shim);
    await waitReady(url);
    let samples = 0;
    let unready = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const res = await httpGet(`${url}/readyz`).catch(() => ({ status: 0, body: '' }));
        samples += 1;
        if (res.status !== 200) unready += 1;
        await sleep(250);
      }
    })();
    let slowSeconds: number;
    try {
      slowSeconds = await timedPhase(url, phases[1]!);
    } finally {
      sampling = false;
      await sampler;
    }
    const slowLatency = await meanDecisionLatency(url);
    const owned = (JSON.parse((await httpGet(`${url}/state`)).body) as { owned: number[] }).owned;
    expect(owned).toEqual([0, 1, 2, 3]);

    // 3. Kill -9 while it works on the last third (its commits are the slow part), then a normal engine.
    await produceEvents(stack, phases[2]!.slice(0, Math.floor(phases[2]!.length / 2)));
    await sleep(700);
    engine.proc.kill('SIGKILL');
    await engine.exited;
    engine = start('slow-2', false);
    await engine.url;
    await produceEvents(stack, phases[2]!.slice(Math.floor(phases[2]!.length / 2)));
    await waitCaughtUp(stack, groupId, 240_000);
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
    const rate = (n: number, s: number) => Math.round(n / s);
    recordFault(
      {
        name,
        faultsInjected: 2,
        eventsIn: events.length,
        decisionsOut: decisions.length,
        rowsSunk: 0,
        duplicates: counts.duplicates,
        lost: counts.lost,
        note: `+${SLOW_IO_MS} ms per write and sync: ${rate(phases[1]!.length, slowSeconds)} events/s vs ${rate(phases[0]!.length, baseSeconds)} at normal speed (catch-up incl. produce), mean decision latency ${slowLatency.toFixed(2)} s vs ${baseLatency.toFixed(2)} s, /readyz unready ${unready} of ${samples} samples; kill -9 of the slow engine at work; ${mismatch ? `FAILED: ${mismatch.message.split('\n').filter(Boolean).slice(0, 2).join(' ').slice(0, 160)}` : 'decisions = fold of the log, state = changelog restore = fold'}`,
      },
      t0,
    );
    expect(unready).toBe(0);
    expect(counts.duplicates).toBe(0);
    expect(counts.lost).toBe(0);
    if (mismatch) throw mismatch;
  });
});

type CustomerEventList = ReturnType<typeof makeEvents>;

const waitReady = (url: string) =>
  waitFor(`the engine at ${url} to be ready`, async () => (await httpGet(`${url}/readyz`).catch(() => ({ status: 0 }))).status === 200, 120_000);

/** Mean of the engine's decision latency histogram (commit time minus the trigger's timestamp), in seconds. */
async function meanDecisionLatency(url: string): Promise<number> {
  const text = (await httpGet(`${url}/metrics`)).body;
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return value('nextact_engine_decision_latency_seconds_sum') / value('nextact_engine_decision_latency_seconds_count');
}
