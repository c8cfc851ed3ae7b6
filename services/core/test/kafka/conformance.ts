/**
 * The Kafka port's conformance suite: every adapter passes it, the in-memory one in unit tests and
 * the real ones (`*.int.test.ts`) against the local broker. Call it from a test file:
 *
 *   describeKafkaPort('memory', () => { const cluster = new MemoryKafka(); return { client: () => cluster.client(), close: async () => {} }; });
 *
 * Cases that need a capability the adapter lacks are skipped with the reason in their name.
 * Each case creates its own topics (unique names) and deletes them afterwards.
 */
import { randomBytes } from 'node:crypto';
import {
  type Assignment,
  type ConsumedRecord,
  type ConsumerOptions,
  ErrorCodes,
  errorCodeOf,
  type GroupMetadata,
  isFencedError,
  type KafkaCapabilities,
  type KafkaClient,
  type NextActError,
  partitionForKey,
  type RecordBatch,
  type RecordConsumer,
  sleep,
  type TopicPartition,
} from '../../src';

export interface PortFixture {
  /** A client of the system under test; called once per independent "process" a case needs. */
  client(): KafkaClient;
  /** Consumers' session timeout (a real broker refuses less than its group.min.session.timeout.ms). */
  sessionTimeoutMs?: number;
  /** How long a case waits for an asynchronous effect (joins, rebalances, fetches). */
  settleMs?: number;
  close(): Promise<void>;
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

const value = (s: string) => Buffer.from(s);
const byPartitionThenOffset = (a: ConsumedRecord, b: ConsumedRecord) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1);

/** Rejects with a NextActError whose code is one of `codes`; returns it for further checks. */
async function rejectsWith(promise: Promise<unknown>, ...codes: string[]): Promise<NextActError> {
  try {
    await promise;
  } catch (err) {
    expect(codes).toContain(errorCodeOf(err));
    return err as NextActError;
  }
  throw new Error(`expected a rejection with ${codes.join(' or ')}`);
}

/**
 * `capabilities` are the adapter's, known when the suite is declared so that a case needing a
 * missing one is skipped by name (`... [skipped: <adapter> has no <capability>]`); the suite checks
 * the client reports the same.
 */
export function describeKafkaPort(
  name: string,
  setup: () => Promise<PortFixture> | PortFixture,
  options: { capabilities: KafkaCapabilities; timeoutMs?: number },
): void {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const { capabilities } = options;
  const needs = (capability: 'kip447' | 'cooperativeRebalance', title: string): [jest.It, string] =>
    capabilities[capability] ? [it, title] : [it.skip, `${title} [skipped: ${capabilities.adapter} has no ${capability}]`];

  describe(`Kafka port conformance: ${name}`, () => {
    let fixture: PortFixture;
    let kafka: KafkaClient;
    let settle: number;
    const run = randomBytes(3).toString('hex');
    let seq = 0;
    const created: string[] = [];
    const closers: (() => Promise<unknown>)[] = [];

    beforeAll(async () => {
      fixture = await setup();
      kafka = fixture.client();
      settle = fixture.settleMs ?? 20_000;
      expect(kafka.capabilities).toEqual(capabilities);
    });

    afterEach(async () => {
      for (const close of closers.splice(0).reverse()) await close().catch(() => {});
      if (created.length > 0) {
        const admin = await kafka.admin();
        await admin.deleteTopics(created.splice(0)).catch(() => {});
        await admin.close();
      }
    });

    afterAll(async () => {
      await fixture?.close();
    });

    const unique = (what: string) => `conf-${run}-${what}-${++seq}`;

    async function topic(what: string, partitions: number): Promise<string> {
      const t = unique(what);
      const admin = await kafka.admin();
      try {
        await admin.ensureTopics([{ name: t, partitions, replicationFactor: 1 }]);
      } finally {
        await admin.close();
      }
      created.push(t);
      return t;
    }

    function consumer(client: KafkaClient, o: ConsumerOptions): Promise<RecordConsumer> {
      return client.consumer({ sessionTimeoutMs: fixture.sessionTimeoutMs, ...o }).then((c) => {
        closers.push(() => c.close());
        return c;
      });
    }

    async function readAll(t: string, partitions: number): Promise<ConsumedRecord[]> {
      const out: ConsumedRecord[] = [];
      await kafka.readPartitions(
        t,
        Array.from({ length: partitions }, (_, partition) => ({ partition, from: '0' })),
        (records) => void out.push(...records),
      );
      return out.sort(byPartitionThenOffset);
    }

    /** A consumer that collects what it is given and marks it processed. */
    async function collector(client: KafkaClient, o: Omit<ConsumerOptions, 'commitMarked'> & { commitMarked?: boolean }) {
      const seen: ConsumedRecord[] = [];
      const events: { kind: 'assigned' | 'revoked'; partitions: TopicPartition[]; at: number }[] = [];
      let joined = false;
      const c = await consumer(client, {
        commitMarked: true,
        ...o,
        rebalance: {
          assigned: (partitions) => {
            joined = true;
            events.push({ kind: 'assigned', partitions, at: Date.now() });
          },
          revoked: (partitions) => void events.push({ kind: 'revoked', partitions, at: Date.now() }),
        },
      });
      await c.run(async (batch) => {
        seen.push(...batch.records);
        const last = batch.records.at(-1);
        if (last) batch.markProcessed(last.offset);
      });
      await eventually('the first assignment', () => joined, settle);
      return { consumer: c, seen, events };
    }

    const owned = (a: Assignment, t: string) => [...(a[t] ?? [])].sort((x, y) => x - y);

    it(
      'admin: creates topics once, reports partitions and watermarks, refuses another partition count, deletes',
      async () => {
        const t = unique('admin');
        const admin = await kafka.admin();
        try {
          expect(await admin.ensureTopics([{ name: t, partitions: 3, replicationFactor: 1 }])).toEqual({ created: [t] });
          created.push(t);
          expect(await admin.ensureTopics([{ name: t, partitions: 3, replicationFactor: 1 }])).toEqual({ created: [] });
          expect(await admin.listTopics()).toContain(t);
          expect(await admin.partitionCount(t)).toBe(3);
          expect(await admin.watermarks(t)).toEqual([0, 1, 2].map((partition) => ({ partition, low: '0', high: '0' })));
          await rejectsWith(admin.ensureTopics([{ name: t, partitions: 4, replicationFactor: 1 }]), ErrorCodes.KAFKA);
          await admin.deleteTopics([t]);
          created.splice(created.indexOf(t), 1);
          await eventually('the topic to be gone', async () => !(await admin.listTopics()).includes(t), settle);
        } finally {
          await admin.close();
        }
      },
      timeoutMs,
    );

    it(
      'admin: group offsets can be read, set on an empty group and the group listed, described and deleted',
      async () => {
        const t = await topic('groups', 2);
        const group = unique('group');
        const admin = await kafka.admin();
        try {
          expect(await admin.groupOffsets(group, t)).toEqual([
            { partition: 0, offset: '-1' },
            { partition: 1, offset: '-1' },
          ]);
          const producer = await kafka.producer();
          await producer.send([0, 1, 2].map((i) => ({ topic: t, key: `k${i}`, value: value(`v${i}`), partition: 0 })));
          await producer.close();
          await admin.setGroupOffsets(group, [{ topic: t, partition: 0, offset: '2' }]);
          expect((await admin.groupOffsets(group, t))[0]).toEqual({ partition: 0, offset: '2' });
          expect(await admin.listGroups()).toContain(group);
          expect((await admin.describeGroup(group)).members).toEqual([]);
          // A group with a running member cannot have its offsets set.
          const live = await collector(kafka, { groupId: group, topics: [t] });
          await eventually('the remaining record', () => live.seen.length === 1, settle);
          expect(live.seen[0]!.offset).toBe('2');
          const described = await admin.describeGroup(group);
          expect(described.members).toHaveLength(1);
          expect(owned(described.members[0]!.assignment, t)).toEqual([0, 1]);
          await rejectsWith(admin.setGroupOffsets(group, [{ topic: t, partition: 0, offset: '0' }]), ErrorCodes.KAFKA_GROUP_NOT_EMPTY);
          await live.consumer.close();
          await admin.deleteGroups([group]);
          await eventually('the group to be gone', async () => !(await admin.listGroups()).includes(group), settle);
        } finally {
          await admin.close();
        }
      },
      timeoutMs,
    );

    it(
      'keys choose partitions as Java clients do (murmur2)',
      async () => {
        const t = await topic('keys', 5);
        const producer = await kafka.producer({ idempotent: true });
        const keys = Array.from({ length: 60 }, (_, i) => `customer-${i}`);
        await producer.send(keys.map((key) => ({ topic: t, key, value: value(key) })));
        await producer.close();
        const records = await readAll(t, 5);
        expect(records).toHaveLength(keys.length);
        for (const r of records) expect(r.partition).toBe(partitionForKey(r.key!, 5));
        expect(new Set(records.map((r) => r.partition)).size).toBeGreaterThan(1);
      },
      timeoutMs,
    );

    it(
      'produces and consumes every record once, in order per partition, with headers and the consumer commits what it marked',
      async () => {
        const t = await topic('order', 3);
        const producer = await kafka.producer({ idempotent: true });
        // Concurrent sends on one producer keep their call order.
        const sends = [0, 1, 2].map((round) =>
          producer.send(
            Array.from({ length: 100 }, (_, i) => ({
              topic: t,
              key: `k${i % 7}`,
              value: value(`${round}:${i}`),
              headers: { round: String(round) },
              timestamp: 1_700_000_000_000 + i,
            })),
          ),
        );
        const positions = (await Promise.all(sends)).flat();
        expect(positions.every((p) => p.topic === t && BigInt(p.offset) >= 0n)).toBe(true);
        await producer.close();
        const group = unique('order-group');
        const c = await collector(kafka, { groupId: group, topics: [t] });
        await eventually('300 records', () => c.seen.length >= 300, settle);
        expect(c.seen).toHaveLength(300);
        for (let p = 0; p < 3; p++) {
          const mine = c.seen.filter((r) => r.partition === p);
          const order = mine.map((r) => r.value!.toString());
          const expected = [0, 1, 2].flatMap((round) =>
            Array.from({ length: 100 }, (_, i) => i)
              .filter((i) => partitionForKey(`k${i % 7}`, 3) === p)
              .map((i) => `${round}:${i}`),
          );
          expect(order).toEqual(expected);
          for (const r of mine) {
            expect(r.headers.round).toBe(r.value!.toString().split(':')[0]);
            expect(r.timestamp).toBeGreaterThanOrEqual(1_700_000_000_000);
          }
        }
        const admin = await kafka.admin();
        try {
          const marks = await admin.watermarks(t);
          await eventually(
            'the marked offsets to be committed',
            async () => JSON.stringify((await admin.groupOffsets(group, t)).map((o) => o.offset)) === JSON.stringify(marks.map((m) => m.high)),
            settle,
          );
        } finally {
          await admin.close();
        }
      },
      timeoutMs,
    );

    it(
      'read_committed: aborted and still-open transactions are never delivered, and markers make offsets non-contiguous',
      async () => {
        const t = await topic('txn', 1);
        const producer = await kafka.transactionalProducer(unique('txn-id'));
        closers.push(() => producer.close());
        await producer.transact((tx) => tx.send([{ topic: t, key: 'a', value: value('committed-1'), partition: 0 }]));
        await expect(
          producer.transact(async (tx) => {
            await tx.send([{ topic: t, key: 'b', value: value('aborted'), partition: 0 }]);
            throw new Error('abort on purpose');
          }),
        ).rejects.toThrow('abort on purpose');
        let finish!: () => void;
        const held = new Promise<void>((resolve) => {
          finish = resolve;
        });
        let sent = false;
        const open = producer.transact(async (tx) => {
          await tx.send([{ topic: t, key: 'c', value: value('committed-2'), partition: 0 }]);
          sent = true;
          await held;
        });
        await eventually('the open transaction to have sent', () => sent, settle);
        // A range read waits for it rather than stop short of the end, and says so when it waits too long.
        const whileOpen: ConsumedRecord[] = [];
        const blocked = kafka.readPartitions(t, [{ partition: 0, from: '0' }], (rs) => void whileOpen.push(...rs), { openTransactionWaitMs: 500 });
        await expect(blocked).rejects.toMatchObject({ code: ErrorCodes.KAFKA_OPEN_TRANSACTION, retriable: true });
        expect(whileOpen.map((r) => r.value!.toString())).toEqual(['committed-1']);
        // One waiting while the transaction commits reads everything.
        const waited: ConsumedRecord[] = [];
        const waiting = kafka.readPartitions(t, [{ partition: 0, from: '0' }], (rs) => void waited.push(...rs));
        await sleep(300);
        finish();
        await open;
        await waiting;
        expect(waited.map((r) => r.value!.toString())).toEqual(['committed-1', 'committed-2']);
        const after = await readAll(t, 1);
        expect(after.map((r) => r.value!.toString())).toEqual(['committed-1', 'committed-2']);
        const admin = await kafka.admin();
        const [mark] = await admin.watermarks(t);
        await admin.close();
        // 3 data records + 3 markers; the two visible ones are not adjacent.
        expect(BigInt(mark!.high)).toBe(6n);
        expect(BigInt(after[1]!.offset) - BigInt(after[0]!.offset)).toBeGreaterThan(1n);
        // A group consumer sees the same.
        const c = await collector(kafka, { groupId: unique('txn-group'), topics: [t] });
        await eventually('both committed records', () => c.seen.length >= 2, settle);
        await sleep(300);
        expect(c.seen.map((r) => r.value!.toString())).toEqual(['committed-1', 'committed-2']);
      },
      timeoutMs,
    );

    it(
      'a transaction commits consumed offsets atomically with its records; an aborted one moves neither',
      async () => {
        const input = await topic('eos-in', 1);
        const output = await topic('eos-out', 1);
        const group = unique('eos-group');
        const producer = await kafka.producer({ idempotent: true });
        await producer.send(Array.from({ length: 10 }, (_, i) => ({ topic: input, key: `k${i}`, value: value(`in-${i}`), partition: 0 })));
        await producer.close();
        const tp = await kafka.transactionalProducer(unique('eos-id'));
        closers.push(() => tp.close());
        let attempts = 0;
        let done = false;
        let joined = false;
        const c = await consumer(kafka, {
          groupId: group,
          topics: [input],
          commitMarked: false,
          rebalance: {
            assigned: () => {
              joined = true;
            },
          },
        });
        await c.run(async (batch: RecordBatch) => {
          if (done || batch.records.length === 0) return;
          const last = batch.records.at(-1)!;
          attempts += 1;
          const abort = attempts === 1;
          await tp
            .transact(async (tx) => {
              await tx.send(batch.records.map((r) => ({ topic: output, key: r.key!, value: value(`out-${r.value!.toString()}`), partition: 0 })));
              await tx.commitConsumed(c.groupMetadata(), [{ topic: input, partition: 0, offset: String(BigInt(last.offset) + 1n) }]);
              if (abort) throw new Error('abort on purpose');
            })
            .catch((err) => {
              if (!abort) throw err;
            });
          if (abort) {
            c.seek({ topic: input, partition: 0, offset: batch.records[0]!.offset });
            return;
          }
          batch.markProcessed(last.offset);
          if (BigInt(last.offset) >= 9n) done = true;
        });
        await eventually('the first assignment', () => joined, settle);
        await eventually('the committed transaction', () => done, settle);
        const admin = await kafka.admin();
        try {
          expect(await admin.groupOffsets(group, input)).toEqual([{ partition: 0, offset: '10' }]);
        } finally {
          await admin.close();
        }
        const out = await readAll(output, 1);
        expect(out.map((r) => r.value!.toString())).toEqual(Array.from({ length: 10 }, (_, i) => `out-in-${i}`));
      },
      timeoutMs,
    );

    it(
      'a zombie producer is fenced when a new producer with its transactional id starts, and its open transaction is aborted',
      async () => {
        const t = await topic('fence', 1);
        const id = unique('fence-id');
        const zombie = await kafka.transactionalProducer(id);
        closers.push(() => zombie.close());
        await zombie.transact((tx) => tx.send([{ topic: t, key: 'z', value: value('zombie-before'), partition: 0 }]));
        let startedOpen!: () => void;
        const opened = new Promise<void>((resolve) => {
          startedOpen = resolve;
        });
        let release!: () => void;
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        const lateCommit = zombie.transact(async (tx) => {
          await tx.send([{ topic: t, key: 'z', value: value('zombie-open'), partition: 0 }]);
          startedOpen();
          await held;
        });
        await opened;
        const successor = await kafka.transactionalProducer(id);
        closers.push(() => successor.close());
        release();
        const err = await rejectsWith(lateCommit, ErrorCodes.KAFKA_FENCED);
        expect(isFencedError(err)).toBe(true);
        expect(err.retriable).toBe(false);
        await rejectsWith(
          zombie.transact((tx) => tx.send([{ topic: t, key: 'z', value: value('zombie-after'), partition: 0 }])),
          ErrorCodes.KAFKA_FENCED,
        );
        await successor.transact((tx) => tx.send([{ topic: t, key: 's', value: value('successor'), partition: 0 }]));
        expect((await readAll(t, 1)).map((r) => r.value!.toString())).toEqual(['zombie-before', 'successor']);
      },
      timeoutMs,
    );

    it(
      'rebalance listener: a second member gets part of the partitions and gives them back when it leaves',
      async () => {
        const t = await topic('rebalance', 4);
        const group = unique('rebalance-group');
        const a = await collector(kafka, { groupId: group, topics: [t] });
        expect(owned(a.consumer.assignment(), t)).toEqual([0, 1, 2, 3]);
        expect(a.events.filter((e) => e.kind === 'assigned').flatMap((e) => e.partitions.map((p) => p.partition))).toEqual(
          expect.arrayContaining([0, 1, 2, 3]),
        );
        const other = fixture.client();
        const b = await collector(other, { groupId: group, topics: [t] });
        await eventually(
          'two members sharing four partitions',
          () => owned(a.consumer.assignment(), t).length + owned(b.consumer.assignment(), t).length === 4 && owned(b.consumer.assignment(), t).length > 0,
          settle,
        );
        const mineA = owned(a.consumer.assignment(), t);
        const mineB = owned(b.consumer.assignment(), t);
        expect([...mineA, ...mineB].sort()).toEqual([0, 1, 2, 3]);
        expect(mineA.length).toBe(2);
        // What B got, A was told it lost.
        const revokedFromA = new Set(a.events.filter((e) => e.kind === 'revoked').flatMap((e) => e.partitions.map((p) => p.partition)));
        for (const p of mineB) expect(revokedFromA.has(p)).toBe(true);
        if (kafka.capabilities.revokeBeforeReassign) {
          const firstBAssign = b.events.find((e) => e.kind === 'assigned' && e.partitions.length > 0)!;
          const lastARevoke = a.events.filter((e) => e.kind === 'revoked').at(-1)!;
          expect(lastARevoke.at).toBeLessThanOrEqual(firstBAssign.at);
        }
        const eventsBefore = a.events.length;
        await b.consumer.close();
        await eventually('A to own all four again', () => owned(a.consumer.assignment(), t).length === 4, settle);
        const reassigned = a.events
          .slice(eventsBefore)
          .filter((e) => e.kind === 'assigned')
          .flatMap((e) => e.partitions.map((p) => p.partition));
        expect(reassigned).toEqual(expect.arrayContaining(mineB));
      },
      timeoutMs,
    );

    const [coopIt, coopTitle] = needs(
      'cooperativeRebalance',
      'cooperative rebalancing: a member keeps the partitions it is not giving up (no revocation of them)',
    );
    coopIt(
      coopTitle,
      async () => {
        const t = await topic('coop', 4);
        const group = unique('coop-group');
        const a = await collector(kafka, { groupId: group, topics: [t] });
        const other = fixture.client();
        const b = await collector(other, { groupId: group, topics: [t] });
        await eventually('B to get partitions', () => owned(b.consumer.assignment(), t).length === 2, settle);
        const kept = owned(a.consumer.assignment(), t);
        const revoked = a.events.filter((e) => e.kind === 'revoked').flatMap((e) => e.partitions.map((p) => p.partition));
        for (const p of kept) expect(revoked).not.toContain(p);
      },
      timeoutMs,
    );

    it(
      'pause stops one partition until resumed; seek re-reads from an offset',
      async () => {
        const t = await topic('pause', 2);
        const producer = await kafka.producer();
        await producer.send(
          [0, 1].flatMap((partition) => Array.from({ length: 5 }, (_, i) => ({ topic: t, key: `k${i}`, value: value(`${partition}:${i}`), partition }))),
        );
        const c = await collector(kafka, { groupId: unique('pause-group'), topics: [t], partitionsConsumedConcurrently: 2 });
        await eventually('all ten records', () => c.seen.length === 10, settle);
        c.consumer.pause(t, [0]);
        await sleep(200); // a fetch in flight for partition 0 may still land
        const before = c.seen.length;
        await producer.send([0, 1].map((partition) => ({ topic: t, key: 'late', value: value(`${partition}:late`), partition })));
        await eventually('the late record of partition 1', () => c.seen.some((r) => r.value!.toString() === '1:late'), settle);
        await sleep(500);
        expect(c.seen.slice(before).some((r) => r.partition === 0)).toBe(false);
        c.consumer.resume(t, [0]);
        await eventually('the late record of partition 0', () => c.seen.some((r) => r.value!.toString() === '0:late'), settle);
        // Seek back: partition 1 is delivered again from offset 2.
        const mark = c.seen.length;
        c.consumer.seek({ topic: t, partition: 1, offset: '2' });
        await eventually('partition 1 again from offset 2', () => c.seen.slice(mark).filter((r) => r.partition === 1).length >= 4, settle);
        expect(
          c.seen
            .slice(mark)
            .filter((r) => r.partition === 1)
            .map((r) => r.value!.toString()),
        ).toEqual(['1:2', '1:3', '1:4', '1:late']);
        await producer.close();
      },
      timeoutMs,
    );

    it(
      'reads partition ranges without a consumer group, from an offset up to an end',
      async () => {
        const t = await topic('range', 2);
        const producer = await kafka.producer();
        await producer.send(
          [0, 1].flatMap((partition) => Array.from({ length: 20 }, (_, i) => ({ topic: t, key: `k${i}`, value: value(`${partition}:${i}`), partition }))),
        );
        await producer.close();
        const admin = await kafka.admin();
        const groupsBefore = new Set(await admin.listGroups());
        const seen: ConsumedRecord[] = [];
        const results = await kafka.readPartitions(
          t,
          [
            { partition: 0, from: '5' },
            { partition: 1, from: '0', until: '3' },
          ],
          (rs) => void seen.push(...rs),
        );
        const newGroups = (await admin.listGroups()).filter((g) => !groupsBefore.has(g) && !g.startsWith('conf-'));
        await admin.close();
        expect(newGroups).toEqual([]);
        expect(results.sort((x, y) => x.partition - y.partition)).toEqual([
          { partition: 0, until: '20', records: 15 },
          { partition: 1, until: '3', records: 3 },
        ]);
        seen.sort(byPartitionThenOffset);
        expect(seen.map((r) => r.value!.toString())).toEqual([...Array.from({ length: 15 }, (_, i) => `0:${i + 5}`), '1:0', '1:1', '1:2']);
        // An empty range resolves at once.
        expect(await kafka.readPartitions(t, [{ partition: 0, from: '20' }], () => {})).toEqual([{ partition: 0, until: '20', records: 0 }]);
      },
      timeoutMs,
    );

    const [kip447It, kip447Title] = needs('kip447', 'KIP-447: a transactional offset commit with a stale generation is refused (NXA_KAFKA_STALE_MEMBER)');
    kip447It(
      kip447Title,
      async () => {
        const t = await topic('kip447', 2);
        const output = await topic('kip447-out', 1);
        const group = unique('kip447-group');
        const a = await collector(kafka, { groupId: group, topics: [t], commitMarked: false });
        const stale: GroupMetadata = a.consumer.groupMetadata();
        expect(stale.groupId).toBe(group);
        expect(stale.memberId).not.toBe('');
        const other = fixture.client();
        const b = await collector(other, { groupId: group, topics: [t], commitMarked: false });
        await eventually('the rebalance', () => owned(b.consumer.assignment(), t).length === 1 && owned(a.consumer.assignment(), t).length === 1, settle);
        await eventually('A to learn the new generation', () => a.consumer.groupMetadata().generationId !== stale.generationId, settle);
        const tp = await kafka.transactionalProducer(unique('kip447-id'));
        closers.push(() => tp.close());
        const mine = owned(a.consumer.assignment(), t)[0]!;
        const err = await rejectsWith(
          tp.transact(async (tx) => {
            await tx.send([{ topic: output, key: 'x', value: value('from a stale member'), partition: 0 }]);
            await tx.commitConsumed(stale, [{ topic: t, partition: mine, offset: '0' }]);
          }),
          ErrorCodes.KAFKA_STALE_MEMBER,
        );
        expect(isFencedError(err)).toBe(true);
        await tp.transact(async (tx) => {
          await tx.send([{ topic: output, key: 'y', value: value('from the current member'), partition: 0 }]);
          await tx.commitConsumed(a.consumer.groupMetadata(), [{ topic: t, partition: mine, offset: '0' }]);
        });
        expect((await readAll(output, 1)).map((r) => r.value!.toString())).toEqual(['from the current member']);
      },
      timeoutMs,
    );

    const [stableIt, stableTitle] = needs('kip447', 'require_stable: committed offsets are read only once no open transaction holds offsets for them');
    stableIt(
      stableTitle,
      async () => {
        const t = await topic('stable', 1);
        const group = unique('stable-group');
        const tp = await kafka.transactionalProducer(unique('stable-id'));
        closers.push(() => tp.close());
        let finish!: () => void;
        const held = new Promise<void>((resolve) => {
          finish = resolve;
        });
        let offsetsSent = false;
        const open = tp.transact(async (tx) => {
          // No member: generation -1 and no member id, which the coordinator accepts without a generation check.
          await tx.commitConsumed({ groupId: group, generationId: -1, memberId: '' }, [{ topic: t, partition: 0, offset: '7' }]);
          offsetsSent = true;
          await held;
        });
        await eventually('the offsets to be in the open transaction', () => offsetsSent, settle);
        const admin = await kafka.admin();
        try {
          let read: { partition: number; offset: string }[] | undefined;
          const stable = admin.groupOffsets(group, t, { requireStable: true }).then((r) => {
            read = r;
          });
          await sleep(500);
          expect(read).toBeUndefined();
          finish();
          await open;
          await stable;
          expect(read).toEqual([{ partition: 0, offset: '7' }]);
        } finally {
          await admin.close();
        }
      },
      timeoutMs,
    );

    it(
      'errors carry stable codes: a record over message.max.bytes, an unknown topic, a closed producer',
      async () => {
        const t = await topic('errors', 1);
        const producer = await kafka.producer();
        const tooLarge = await rejectsWith(
          producer.send([{ topic: t, key: 'big', value: Buffer.alloc(2 * 1024 * 1024, 1), partition: 0 }]),
          ErrorCodes.KAFKA_RECORD_TOO_LARGE,
        );
        expect(tooLarge.retriable).toBe(false);
        // Nothing of a refused send is written.
        const admin = await kafka.admin();
        try {
          expect((await admin.watermarks(t))[0]!.high).toBe('0');
          await rejectsWith(admin.partitionCount(unique('missing')), ErrorCodes.KAFKA_UNKNOWN_TOPIC);
        } finally {
          await admin.close();
        }
        await producer.close();
      },
      timeoutMs,
    );
  });
}
