/**
 * One conformance suite for every store (ENGINE_STORE): key-value semantics, the timer index against
 * a sorted reference, named values, commits with their changelog offset, and crash consistency — a
 * child process writing and committing in a loop is killed with SIGKILL; reopened, the store's offset
 * and its contents agree (the last commit's). Persistence checks apply to persistent stores only.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes } from '@nextact/core';
import { prng } from '../../../../../test/support/prng';
import { openPartitionState, type PartitionState, type StoreKind, storeKinds } from '../../../src/runtime/stores';

jest.setTimeout(30_000);

const codec = { encode: (v: string) => Buffer.from(v), decode: (b: Buffer) => b.toString() };

describe.each(storeKinds)('store conformance (%s)', (kind: StoreKind) => {
  const persistent = kind !== 'memory';
  let dir: string;
  const open: PartitionState<string>[] = [];
  const openState = async (partition = 0) => {
    const s = await openPartitionState({ kind, dir, cacheEntries: 16 }, partition, codec);
    open.push(s);
    return s;
  };
  const reopen = async (s: PartitionState<string>) => {
    await s.close();
    return openState();
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), `nextact-store-${kind}-`));
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets what was put, before and after a commit, and forgets deletes', async () => {
    const s = await openState();
    expect(s.journeys.get('a')).toBeUndefined();
    s.journeys.put('a', '1');
    s.journeys.put('b', '2');
    s.journeys.put('a', '3');
    expect(s.journeys.get('a')).toBe('3');
    s.commit('10');
    expect(s.journeys.get('a')).toBe('3');
    s.journeys.delete('b');
    expect(s.journeys.get('b')).toBeUndefined();
    s.commit('11');
    expect(s.journeys.get('b')).toBeUndefined();
    expect(s.journeys.approximateCount()).toBe(1);
  });

  it('deletes a key with its timer, and a restored tombstone removes the key for good', async () => {
    let s = await openState();
    for (const k of ['a', 'b', 'c', 'd']) {
      s.journeys.put(k, `v-${k}`);
      s.timers.set(k, k.charCodeAt(0));
    }
    s.commit('4');
    // Deleted through the store (erasure): gone with its timer, before and after the commit.
    s.journeys.delete('a');
    s.timers.set('a', undefined);
    expect(s.journeys.get('a')).toBeUndefined();
    s.commit('5');
    // Restored tombstones: of a committed key, of a key written since the last commit, of an unknown key.
    s.journeys.put('e', 'pending');
    s.timers.set('e', 1);
    s.restore(
      [
        { key: 'b', bytes: null, due: undefined },
        { key: 'e', bytes: null, due: undefined },
        { key: 'never', bytes: null, due: undefined },
        { key: 'c', bytes: Buffer.from('restored'), due: 500 },
      ],
      '9',
    );
    const check = (state: PartitionState<string>) => {
      for (const k of ['a', 'b', 'e', 'never']) {
        expect(state.journeys.get(k)).toBeUndefined();
        expect(state.timers.dueOf(k)).toBeUndefined();
      }
      expect([...state.journeys.range()]).toEqual([
        ['c', 'restored'],
        ['d', 'v-d'],
      ]);
      expect(state.journeys.approximateCount()).toBe(2);
      expect(state.timers.size).toBe(2);
      const popped: string[] = [];
      for (let e = state.timers.popDue(10_000); e; e = state.timers.popDue(10_000)) popped.push(e.id);
      expect(popped).toEqual(['d', 'c']);
    };
    check(s);
    if (persistent) {
      // lmdb must not keep the keys: reopened, they are not on disk either.
      s = await reopen(s);
      expect(s.stored()).toEqual({ changelogOffset: '9' });
      check(s);
    }
  });

  it('ranges in UTF-8 byte order with a half-open interval, over committed and uncommitted writes', async () => {
    const s = await openState();
    const keys = ['b', 'a', 'ä', 'z', 'cust-10', 'cust-9', 'cust-1', '日本'];
    for (const [i, k] of keys.entries()) {
      s.journeys.put(k, String(i));
      if (i === 3) s.commit('1'); // half committed, half pending
    }
    s.journeys.delete('z');
    const sorted = keys.filter((k) => k !== 'z').sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...s.journeys.range()].map(([k]) => k)).toEqual(sorted);
    expect([...s.journeys.range('b', 'cust-9')].map(([k]) => k)).toEqual(['b', 'cust-1', 'cust-10']);
    expect([...s.journeys.range('cust-')].map(([k]) => k)[0]).toBe('cust-1');
  });

  it('pops timers in (due, id) order under random churn, agreeing with a sorted reference across commits', async () => {
    let s = await openState();
    const rnd = prng(7);
    const ref = new Map<string, number>();
    for (let i = 0; i < 6_000; i++) {
      const id = `k${Math.floor(rnd() * 200)}`;
      const due = rnd() < 0.1 ? undefined : Math.floor(rnd() * 1000);
      s.timers.set(id, due);
      if (due === undefined) ref.delete(id);
      else ref.set(id, due);
      expect(s.timers.dueOf(id)).toBe(due);
      if (i % 500 === 499) {
        const at = Math.floor(rnd() * 1000);
        const expected = [...ref].filter(([, d]) => d <= at).sort(([a, da], [b, db]) => da - db || (a < b ? -1 : 1));
        const nextExpected = [...ref].reduce((m, [, d]) => Math.min(m, d), Number.POSITIVE_INFINITY);
        expect(s.timers.nextDue() ?? Number.POSITIVE_INFINITY).toBe(nextExpected);
        const got: [string, number][] = [];
        for (let e = s.timers.popDue(at); e; e = s.timers.popDue(at)) got.push([e.id, e.due]);
        expect(got).toEqual(expected);
        for (const [id] of expected) ref.delete(id);
        expect(s.timers.size).toBe(ref.size);
        // Half the time the round is committed (and, persistent, reopened) before going on.
        if (rnd() < 0.5) {
          s.commit(String(i));
          if (persistent && rnd() < 0.5) s = await reopen(s);
        }
      }
    }
  });

  it('keeps named values with the contents', async () => {
    let s = await openState();
    s.setValue('learner', Buffer.from('L1'));
    expect(s.getValue('learner')?.toString()).toBe('L1');
    s.commit('5');
    s.setValue('learner', undefined);
    expect(s.getValue('learner')).toBeUndefined();
    s.setValue('learner', Buffer.from('L2'));
    s.commit('6');
    if (persistent) {
      s = await reopen(s);
      expect(s.getValue('learner')?.toString()).toBe('L2');
    }
  });

  it('makes a commit durable with its changelog offset, and drops uncommitted writes on close', async () => {
    let s = await openState();
    expect(s.stored()).toBeUndefined();
    s.journeys.put('a', 'committed');
    s.timers.set('a', 100);
    s.commit('1234567890123');
    s.journeys.put('a', 'not committed');
    s.journeys.put('b', 'not committed');
    s.timers.set('a', 5);
    s = await reopen(s);
    if (!persistent) {
      // Nothing durable: a new in-memory store is empty and claims no offset, which agree.
      expect(s.stored()).toBeUndefined();
      expect(s.journeys.approximateCount()).toBe(0);
      return;
    }
    expect(s.stored()).toEqual({ changelogOffset: '1234567890123' });
    expect(s.journeys.get('a')).toBe('committed');
    expect(s.journeys.get('b')).toBeUndefined();
    expect(s.timers.dueOf('a')).toBe(100);
    expect(s.timers.popDue(1000)).toEqual({ id: 'a', due: 100 });
  });

  it('wipes contents, timers, values and offset', async () => {
    let s = await openState();
    s.journeys.put('a', '1');
    s.timers.set('a', 1);
    s.setValue('v', Buffer.from('x'));
    s.commit('9');
    s.wipe();
    expect(s.stored()).toBeUndefined();
    expect(s.journeys.get('a')).toBeUndefined();
    expect(s.timers.nextDue()).toBeUndefined();
    if (persistent) {
      s = await reopen(s);
      expect(s.stored()).toBeUndefined();
      expect(s.journeys.approximateCount()).toBe(0);
      expect(s.getValue('v')).toBeUndefined();
    }
  });

  it('keeps partitions apart, and a partition reopened in the same process waits for its previous holder', async () => {
    const p0 = await openState(0);
    const p1 = await openState(1);
    p0.journeys.put('a', 'zero');
    p1.journeys.put('a', 'one');
    p0.commit('1');
    p1.commit('2');
    expect(p0.journeys.get('a')).toBe('zero');
    expect(p1.journeys.get('a')).toBe('one');
    if (!persistent) return;
    const again = openState(0);
    let opened = false;
    void again.then(() => {
      opened = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(opened).toBe(false);
    await p0.close();
    expect((await again).journeys.get('a')).toBe('zero');
  });

  it('after kill -9 in the middle of writing, the stored offset and the contents agree', async () => {
    const keys = 300;
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'crash-child.ts'), kind, dir, String(keys)], {
      cwd: join(__dirname, '../../../../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let committed = 0;
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => {
        const rounds = [...c.toString().matchAll(/committed (\d+)/g)];
        if (rounds.length > 0) committed = Number(rounds.at(-1)![1]);
        if (committed >= 20) resolve();
      });
      child.once('exit', () => reject(new Error(`crash child exited early: ${stderr}`)));
    });
    // Somewhere between two commits or inside one.
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 40)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const s = await openState();
    const stored = s.stored();
    if (!persistent) {
      expect(stored).toBeUndefined();
      expect(s.journeys.approximateCount()).toBe(0);
      return;
    }
    const round = Number(stored!.changelogOffset);
    expect(round).toBeGreaterThanOrEqual(committed);
    const values = new Set<string>();
    for (let k = 0; k < keys; k++) values.add(s.journeys.get(`key-${k}`)!);
    expect([...values]).toEqual([String(round)]);
    for (let k = 0; k < keys; k++) expect(s.timers.dueOf(`key-${k}`)).toBe(round * 10 + (k % 7));
    expect(s.getValue('round')?.toString()).toBe(String(round));
    expect(s.journeys.approximateCount()).toBe(keys);
  });
});

describe('lmdb store folder lock', () => {
  it('refuses, retriably, a folder another live process holds, and takes over one whose holder died', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nextact-store-lock-'));
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      mkdirSync(join(dir, '0'), { recursive: true });
      writeFileSync(join(dir, '0', 'owner.pid'), String(holder.pid));
      await expect(openPartitionState({ kind: 'lmdb', dir }, 0, codec)).rejects.toMatchObject({ code: ErrorCodes.STORE, retriable: true });
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
      const s = await openPartitionState({ kind: 'lmdb', dir }, 0, codec);
      expect(readFileSync(join(dir, '0', 'owner.pid'), 'utf8')).toBe(String(process.pid));
      await s.close();
      expect(existsSync(join(dir, '0', 'owner.pid'))).toBe(false);
    } finally {
      holder.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
