/**
 * The persistent store on lmdb (one environment per partition folder). Writes go to a pending
 * set on the heap and reach the disk only in `commit`, in one lmdb write transaction together
 * with the changelog offset they reflect: a crash at any point leaves the last commit's contents
 * and offset, which agree. Reads go pending → a bounded cache of decoded values → the disk, so the
 * heap holds the cache and one commit interval's writes, not the partition's journeys.
 *
 * lmdb allows one open environment per path and process: a partition reopened in the same process
 * waits until the previous holder has closed (see `holders`). Another live process holding the
 * folder (an engine frozen past its session, sharing ENGINE_STATE_DIR) makes the open fail,
 * retriably, until it lets go (`owner.pid`): its late writes must not mix with ours.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, NextActError } from '@nextact/core';
import { type Database, open, type RootDatabase } from 'lmdb';
import { compareKeys } from './memory';
import { MemoryTimerIndex } from './memory-timers';
import type { KeyValueStore, PartitionState, RestoredEntry, StoredPosition, TimerIndex, ValueCodec } from './types';

const OFFSET = 'changelogOffset';
const EMPTY = Buffer.alloc(0);
/** Decoded values kept on the heap per partition (the rest is read from the page cache when needed). */
export const DEFAULT_CACHE_ENTRIES = 4_096;

/** Pending write: a value, or null for a delete. */
type Pending<V> = Map<string, V | null>;

export class LmdbKeyValueStore<V> implements KeyValueStore<V> {
  readonly pending: Pending<V> = new Map();
  private readonly cache = new Map<string, V>();

  constructor(
    private readonly db: Database<Buffer, string>,
    private readonly codec: ValueCodec<V>,
    private readonly cacheEntries: number,
  ) {}

  get(key: string): V | undefined {
    const p = this.pending.get(key);
    if (p !== undefined) return p ?? undefined;
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      // Least recently used first: a hit moves to the end.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const bytes = this.db.getBinary(key); // a copy: a codec may keep slices of it
    if (bytes === undefined) return undefined;
    const value = this.codec.decode(bytes);
    this.remember(key, value);
    return value;
  }

  put(key: string, value: V): void {
    this.pending.set(key, value);
    this.cache.delete(key);
  }

  delete(key: string): void {
    this.pending.set(key, null);
    this.cache.delete(key);
  }

  *range(from?: string, to?: string): Iterable<[string, V]> {
    const keys = new Set<string>();
    for (const key of this.db.getKeys({ start: from, end: to })) keys.add(key);
    for (const key of this.pending.keys())
      if ((from === undefined || compareKeys(key, from) >= 0) && (to === undefined || compareKeys(key, to) < 0)) keys.add(key);
    for (const key of [...keys].sort(compareKeys)) {
      const value = this.get(key);
      if (value !== undefined) yield [key, value];
    }
  }

  approximateCount(): number {
    let n = (this.db.getStats() as { entryCount: number }).entryCount;
    for (const v of this.pending.values()) n += v === null ? -1 : 1; // an overwrite counts twice: approximate
    return Math.max(0, n);
  }

  /** Inside the commit's write transaction. */
  writePending(): void {
    for (const [key, value] of this.pending) {
      if (value === null) {
        this.db.removeSync(key);
      } else {
        this.db.putSync(key, this.codec.encode(value));
        this.remember(key, value);
      }
    }
    this.pending.clear();
  }

  /** Restore: bytes straight from the changelog, no re-encoding. */
  putBytes(key: string, bytes: Buffer | null): void {
    this.pending.delete(key);
    this.cache.delete(key);
    if (bytes === null) this.db.removeSync(key);
    else this.db.putSync(key, bytes);
  }

  discard(): void {
    this.pending.clear();
    this.cache.clear();
  }

  private remember(key: string, value: V): void {
    this.cache.set(key, value);
    if (this.cache.size > this.cacheEntries) this.cache.delete(this.cache.keys().next().value!);
  }
}

/**
 * Committed timers on disk, keyed (due, id) so the earliest is the first key, and id → due to
 * replace one; timers set since the last commit in a small heap on the heap. Within one commit
 * interval the disk part does not change, so a cursor skips what was already popped or replaced.
 */
export class LmdbTimerIndex implements TimerIndex {
  /** Timers set (or cleared, undefined) since the last commit; they override the disk. */
  private readonly pending = new Map<string, number | undefined>();
  private readonly fresh = new MemoryTimerIndex();
  /** Disk keys up to and including this one were popped or are overridden. */
  private cursor?: [number, string];
  /** The earliest live disk timer, once found (null: none): a peek per event must not open an lmdb cursor. */
  private head?: [number, string] | null;

  constructor(
    private readonly byDue: Database<Buffer, [number, string]>,
    private readonly dues: Database<number, string>,
  ) {}

  get size(): number {
    let n = (this.dues.getStats() as { entryCount: number }).entryCount;
    for (const [id, due] of this.pending) {
      const onDisk = this.dues.get(id) !== undefined;
      if (due !== undefined && !onDisk) n++;
      if (due === undefined && onDisk) n--;
    }
    return n;
  }

  dueOf(id: string): number | undefined {
    return this.pending.has(id) ? this.pending.get(id) : this.dues.get(id);
  }

  set(id: string, due: number | undefined): void {
    const valid = due !== undefined && Number.isFinite(due) ? due : undefined;
    if (this.dueOf(id) === valid) return;
    this.pending.set(id, valid);
    this.fresh.set(id, valid);
    if (this.head && this.head[1] === id) this.head = undefined;
  }

  nextDue(): number | undefined {
    const disk = this.diskPeek();
    const mem = this.fresh.peek();
    if (!disk) return mem?.due;
    if (!mem) return disk[0];
    return Math.min(disk[0], mem.due);
  }

  popDue(time: number): { id: string; due: number } | undefined {
    const disk = this.diskPeek();
    const mem = this.fresh.peek();
    const diskFirst = disk !== undefined && (mem === undefined || disk[0] < mem.due || (disk[0] === mem.due && disk[1] < mem.id));
    if (diskFirst) {
      if (disk[0] > time) return undefined;
      this.cursor = disk;
      this.head = undefined;
      this.pending.set(disk[1], undefined);
      return { id: disk[1], due: disk[0] };
    }
    if (mem === undefined || mem.due > time) return undefined;
    this.fresh.popDue(time);
    this.pending.set(mem.id, undefined);
    return mem;
  }

  /** Inside the commit's write transaction. */
  writePending(): void {
    for (const [id, due] of this.pending) {
      const old = this.dues.get(id);
      if (old !== undefined) this.byDue.removeSync([old, id]);
      if (due === undefined) {
        if (old !== undefined) this.dues.removeSync(id);
      } else {
        this.byDue.putSync([due, id], EMPTY);
        this.dues.putSync(id, due);
      }
    }
    this.discard();
  }

  discard(): void {
    this.pending.clear();
    this.fresh.clear();
    this.cursor = undefined;
    this.head = undefined;
  }

  /** The earliest committed timer not popped or overridden since the last commit. */
  private diskPeek(): [number, string] | undefined {
    if (this.head !== undefined) return this.head ?? undefined;
    const cursor = this.cursor;
    for (const key of this.byDue.getKeys(cursor ? { start: cursor } : {})) {
      if (cursor && key[0] === cursor[0] && key[1] === cursor[1]) continue;
      if (!this.pending.has(key[1])) {
        this.head = key;
        return key;
      }
      this.cursor = key; // overridden until the next commit
    }
    this.head = null;
    return undefined;
  }
}

/** Takes the folder for this process; a dead or reused (our own) pid in the lock is taken over. */
function lockFolder(path: string): () => void {
  const file = join(path, 'owner.pid');
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EIO' || code === 'EDQUOT' || code === 'EROFS')
        throw new NextActError(ErrorCodes.STORE, `partition store ${path}: cannot write its lock file (disk full or failing): ${(err as Error).message}`, {
          retriable: true,
          cause: err,
        });
      if (code !== 'EEXIST' || attempt > 0) throw err;
    }
    const pid = Number(readFileSync(file, 'utf8'));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new NextActError(ErrorCodes.STORE, `partition store ${path} is held by process ${pid}; retrying once it lets go`, { retriable: true });
    }
    rmSync(file, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The changelog offset a partition folder's store last made durable, read without taking the
 * folder (lmdb allows readers beside the writer): for diagnostics and tests.
 */
export async function peekStoredOffset(path: string): Promise<string | undefined> {
  if (!existsSync(join(path, 'data.mdb'))) return undefined;
  const env = open({ path, maxDbs: 8, readOnly: true });
  try {
    return env.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' }).getBinary(OFFSET)?.toString('latin1');
  } finally {
    await env.close();
  }
}

/** Paths open in this process, and the promise of their holder's close. */
const holders = new Map<string, Promise<void>>();

export interface LmdbOptions {
  /** The partition's folder. */
  path: string;
  cacheEntries?: number;
}

export class LmdbPartitionState<V> implements PartitionState<V> {
  readonly kind = 'lmdb' as const;
  readonly journeys: LmdbKeyValueStore<V>;
  readonly timers: LmdbTimerIndex;
  private readonly meta: Database<Buffer, string>;
  private readonly dbs: Database<unknown, string | [number, string]>[];
  private readonly pendingValues = new Map<string, Buffer | undefined>();
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly env: RootDatabase,
    codec: ValueCodec<V>,
    cacheEntries: number,
    private readonly release: () => void,
  ) {
    this.meta = env.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
    const journeys = env.openDB<Buffer, string>({ name: 'journeys', encoding: 'binary' });
    const byDue = env.openDB<Buffer, [number, string]>({ name: 'timers', encoding: 'binary' });
    const dues = env.openDB<number, string>({ name: 'dues', encoding: 'ordered-binary' });
    this.dbs = [journeys, byDue, dues, this.meta] as Database<unknown, string | [number, string]>[];
    this.journeys = new LmdbKeyValueStore(journeys, codec, cacheEntries);
    this.timers = new LmdbTimerIndex(byDue, dues);
  }

  /** Opens (or creates) the partition's environment, once the previous holder in this process closed it. */
  static async open<V>(codec: ValueCodec<V>, options: LmdbOptions): Promise<LmdbPartitionState<V>> {
    const previous = holders.get(options.path);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const chained = (previous ?? Promise.resolve()).then(() => held);
    holders.set(options.path, chained);
    await previous;
    try {
      mkdirSync(options.path, { recursive: true });
      const unlock = lockFolder(options.path);
      let env: RootDatabase;
      try {
        env = open({ path: options.path, maxDbs: 8 });
      } catch (err) {
        unlock();
        throw new NextActError(ErrorCodes.STORE, `lmdb store ${options.path} does not open: ${(err as Error).message}`, { retriable: true, cause: err });
      }
      return new LmdbPartitionState(options.path, env, codec, options.cacheEntries ?? DEFAULT_CACHE_ENTRIES, () => {
        unlock();
        release();
        if (holders.get(options.path) === chained) holders.delete(options.path);
      });
    } catch (err) {
      release();
      throw err;
    }
  }

  getValue(name: string): Buffer | undefined {
    if (this.pendingValues.has(name)) return this.pendingValues.get(name);
    const v = this.meta.getBinary(name);
    return v === undefined ? undefined : Buffer.from(v);
  }

  setValue(name: string, value: Buffer | undefined): void {
    this.pendingValues.set(name, value);
  }

  stored(): StoredPosition | undefined {
    const offset = this.meta.getBinary(OFFSET);
    return offset === undefined ? undefined : { changelogOffset: offset.toString('latin1') };
  }

  commit(changelogOffset: string): void {
    this.write('commit', () => this.writeAll(changelogOffset));
  }

  /**
   * Restore: changelog bytes written as they are, with the offset the restore reached, in one
   * transaction. Values and timers set through the other methods since the last commit go too.
   */
  restore(entries: Iterable<RestoredEntry<V>>, changelogOffset: string): void {
    this.write('restore', () => {
      for (const { key, bytes, due } of entries) {
        this.journeys.putBytes(key, bytes);
        this.timers.set(key, due);
      }
      this.writeAll(changelogOffset);
    });
  }

  /**
   * One lmdb write transaction. A failed one (disk full: ENOSPC or EIO from lmdb; a failing disk)
   * leaves the disk at the last commit, but the pending writes may be partly taken: the state is
   * not to be used further. It surfaces as retriable NXA_STORE with the cause; the task releases
   * the partition and reopens it from the store and the changelog (docs/stores.md, "Disk full").
   */
  private write(what: 'commit' | 'restore', work: () => void): void {
    try {
      this.env.transactionSync(work);
    } catch (err) {
      // lmdb-js reports errno as a numeric code: 28 ENOSPC, 5 EIO (what a write past a full disk gives).
      const e = err as { code?: unknown; message?: string };
      const full = e.code === 28 || e.code === 5 || /no space left|input\/output error|MDB_MAP_FULL/i.test(e.message ?? '');
      throw new NextActError(ErrorCodes.STORE, `lmdb store ${this.path}: ${what} failed${full ? ' (disk full or failing)' : ''}: ${e.message ?? String(err)}`, {
        retriable: true,
        cause: err,
      });
    }
  }

  private writeAll(changelogOffset: string): void {
    this.journeys.writePending();
    this.timers.writePending();
    for (const [name, value] of this.pendingValues) {
      if (value === undefined) this.meta.removeSync(name);
      else this.meta.putSync(name, value);
    }
    this.pendingValues.clear();
    this.meta.putSync(OFFSET, Buffer.from(changelogOffset, 'latin1'));
  }

  wipe(): void {
    this.journeys.discard();
    this.timers.discard();
    this.pendingValues.clear();
    // The offset first: contents without an offset are never trusted (a crash mid-wipe is wiped again).
    this.meta.removeSync(OFFSET);
    for (const db of this.dbs) db.clearSync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.journeys.discard();
    this.timers.discard();
    this.pendingValues.clear();
    try {
      await this.env.close();
    } finally {
      this.release();
    }
  }
}
