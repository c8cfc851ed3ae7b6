/**
 * When the instance transaction commits (commit.ts), on the in-memory Kafka adapter: at the end of
 * the interval, after `maxRecords`, or as soon as every batch being processed has contributed or
 * given up. The interval here is a minute, so a commit seen within the test's time came early.
 */
import { MemoryKafka, silentLogger } from '@nextact/core';
import { Registry } from 'prom-client';
import { type Contribution, InstanceCommitter } from '../../src/runtime/commit';
import { EngineMetrics } from '../../src/runtime/metrics';

const MINUTE = 60_000;

async function committer(options: { maxRecords?: number } = {}) {
  const cluster = new MemoryKafka();
  const admin = await cluster.client().admin();
  await admin.ensureTopics([{ name: 'out', partitions: 2, replicationFactor: 1 }]);
  await admin.close();
  const c = new InstanceCommitter({
    kafka: cluster.client(),
    transactionalId: 'commit-test',
    groupMetadata: () => ({ groupId: 'g', generationId: 1, memberId: 'm' }),
    owns: () => true,
    intervalMs: MINUTE,
    maxRecords: options.maxRecords ?? 1_000,
    logger: silentLogger,
    metrics: new EngineMetrics(new Registry()),
  });
  return c;
}

const contribution = (partition: number, records = 0): Contribution => ({
  partition,
  records: Array.from({ length: records }, (_, i) => ({ topic: 'out', key: `k${i}`, partition, value: Buffer.from('v') })),
});

/** Resolves to whether `p` settled within `ms`. */
const settlesWithin = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('InstanceCommitter', () => {
  const open: InstanceCommitter[] = [];
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
  });
  const make = async (o?: { maxRecords?: number }) => {
    const c = await committer(o);
    open.push(c);
    return c;
  };

  it('waits for every active batch, then commits without waiting out the interval', async () => {
    const c = await make();
    await c.start();
    const a = c.batchStarted();
    const b = c.batchStarted();
    const first = c.contribute(contribution(0, 1));
    a();
    expect(await settlesWithin(first, 100)).toBe(false); // b is still being processed
    const second = c.contribute(contribution(1, 1));
    b();
    expect(await settlesWithin(Promise.all([first, second]), 2_000)).toBe(true);
  });

  it('commits once the last active batch gives up without contributing', async () => {
    const c = await make();
    await c.start();
    const a = c.batchStarted();
    const b = c.batchStarted();
    const committed = c.contribute(contribution(0, 1));
    a();
    b(); // e.g. every record was below the committed offset
    b(); // settling twice counts once
    expect(await settlesWithin(committed, 2_000)).toBe(true);
    // The count is back to zero: a new batch's contribution again waits for its own settle.
    const c2 = c.batchStarted();
    const next = c.contribute(contribution(0, 1));
    expect(await settlesWithin(next, 100)).toBe(false);
    c2();
    expect(await settlesWithin(next, 2_000)).toBe(true);
  });

  it('commits a contribution made outside any batch (timers) at the interval, not early', async () => {
    const c = await make();
    await c.start();
    const timers = c.contribute(contribution(0, 1));
    expect(await settlesWithin(timers, 150)).toBe(false);
    await c.flush();
    expect(await settlesWithin(timers, 2_000)).toBe(true);
  });

  it('commits early once maxRecords wait, while batches are still active', async () => {
    const c = await make({ maxRecords: 5 });
    await c.start();
    c.batchStarted();
    const big = c.contribute(contribution(0, 5));
    expect(await settlesWithin(big, 2_000)).toBe(true);
  });
});
