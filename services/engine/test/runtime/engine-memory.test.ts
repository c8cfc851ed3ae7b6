/**
 * The engine's partition lifecycle on the in-memory Kafka adapter, no broker: assignment and
 * revocation through the rebalance listener, reopening after a failed transaction, and fencing of a
 * zombie instance — each checked for exactly-once against the reference fold. Run with cooperative
 * rebalancing and with eager rebalancing learnt after the join (as platformatic's classic protocol
 * behaves); an adapter without KIP-447 (as kafkajs) is refused.
 */
import { ErrorCodes, type KafkaClient, NextActError, sleep, type TransactionalProducer } from '@nextact/core';
import type { Engine } from '../../src/runtime/engine';
import { storeKinds } from '../../src/runtime/stores';
import { type CounterJourney, type CounterLearner, fakeDomain } from './fake-domain';
import { counterTotal, makeEvents, produceEvents, startEngine, storeText, verifyRun, waitCaughtUp, waitFor } from './helpers';
import { memoryCodec, memoryStack } from './memory-stack';

jest.setTimeout(30_000);

type Run = Awaited<ReturnType<typeof startEngine<CounterJourney, CounterLearner>>>;

const variants = storeKinds.flatMap((store) => [
  { name: `cooperative, ENGINE_STORE=${store}`, options: {}, store },
  {
    name: `eager, revocation learnt after the join (as platformatic), ENGINE_STORE=${store}`,
    options: { cooperativeRebalance: false, revokeBeforeReassign: false },
    store,
  },
]);

describe.each(variants)('engine on the memory adapter ($name)', ({ options, store }) => {
  const running: Run[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) await r.engine.stop();
  });

  const owned = (e: Engine<CounterJourney, CounterLearner>) => e.status().owned;

  it('shares partitions through the rebalance listener and hands them over on leave, exactly once', async () => {
    const stack = await memoryStack('share', 4, { ...options, maxBatchRecords: 50 });
    try {
      const domain = fakeDomain();
      const groupId = `${stack.prefix}engine`;
      const events = makeEvents(1200, 40, 5);
      await produceEvents(stack, events.slice(0, 400));
      const a = await startEngine(stack, domain, { groupId, instanceId: 'a', kafka: stack.cluster.client(), store });
      running.push(a);
      await waitFor('a owns all and is ready', () => owned(a.engine).length === 4 && a.engine.readiness().ready, 10_000);
      const b = await startEngine(stack, domain, { groupId, instanceId: 'b', kafka: stack.cluster.client(), store });
      running.push(b);
      await waitFor('a and b share', () => owned(a.engine).length === 2 && owned(b.engine).length === 2 && b.engine.readiness().ready, 10_000);
      expect([...owned(a.engine), ...owned(b.engine)].sort()).toEqual([0, 1, 2, 3]);
      // One transactional producer per instance, none per partition.
      expect(stack.cluster.transactionalIds()).toEqual([`${groupId}-a`, `${groupId}-b`]);
      await produceEvents(stack, events.slice(400, 900));
      await sleep(100);
      await a.engine.stop();
      await waitFor('b owns all', () => owned(b.engine).length === 4 && b.engine.readiness().ready, 10_000);
      await produceEvents(stack, events.slice(900));
      await waitCaughtUp(stack, groupId, 15_000);
      const { reference } = await verifyRun(stack, domain, events);
      for (let p = 0; p < 4; p++) expect(storeText(domain, b.engine.storeOf(p)!)).toBe(storeText(domain, reference.get(p)!.store));
      // b took over a's partitions from the changelog.
      expect(await counterTotal(b.metrics, 'nextact_engine_restored_records_total')).toBeGreaterThan(0);
    } finally {
      await stack.cleanup();
    }
  });

  it('reopens a partition after a failed transaction and loses nothing', async () => {
    const stack = await memoryStack('reopen', 2, options);
    try {
      const domain = fakeDomain();
      const groupId = `${stack.prefix}engine`;
      const events = makeEvents(600, 20, 9);
      const kafka = failingOnce(stack.cluster.client(), 2);
      const a = await startEngine(stack, domain, { groupId, instanceId: 'a', kafka, store });
      running.push(a);
      await produceEvents(stack, events);
      await waitCaughtUp(stack, groupId, 15_000);
      expect(kafka.failed()).toBe(2);
      expect(await counterTotal(a.metrics, 'nextact_engine_transactions_total', { result: 'abort' })).toBe(2);
      await verifyRun(stack, domain, events);
    } finally {
      await stack.cleanup();
    }
  });

  it('fences a zombie whose session expired mid-batch: its late commit fails and no decision is duplicated', async () => {
    const stack = await memoryStack('zombie', 2, { ...options, maxBatchRecords: 100 });
    try {
      const domain = fakeDomain();
      const groupId = `${stack.prefix}engine`;
      const events = makeEvents(800, 30, 13);
      // The zombie's decodes hang once it is frozen, as a SIGSTOPped process would.
      let frozen = false;
      let thaw!: () => void;
      const thawed = new Promise<void>((resolve) => {
        thaw = resolve;
      });
      let hung = 0;
      const zombieCodec = memoryCodec({
        beforeDecode: async () => {
          if (!frozen) return;
          hung += 1;
          await thawed;
        },
      });
      const zombie = await startEngine(stack, domain, {
        groupId,
        instanceId: 'zombie',
        kafka: stack.cluster.client(),
        codec: zombieCodec,
        fencedBackoffMs: 200,
        store,
      });
      running.push(zombie);
      await produceEvents(stack, events.slice(0, 300));
      await waitCaughtUp(stack, groupId, 10_000);
      frozen = true;
      await produceEvents(stack, events.slice(300, 500));
      await waitFor('the zombie to be inside a batch', () => hung > 0, 10_000);
      // Its session runs out: the group moves on without it, to a successor.
      const admin = await stack.kafka.admin();
      const [member] = (await admin.describeGroup(groupId)).members;
      await admin.close();
      await stack.cluster.expireMember(groupId, member!.memberId);
      const successor = await startEngine(stack, domain, { groupId, instanceId: 'successor', kafka: stack.cluster.client(), store });
      running.push(successor);
      await waitFor('the successor to own both partitions', () => owned(successor.engine).length === 2 && successor.engine.readiness().ready, 10_000);
      await produceEvents(stack, events.slice(500));
      await waitCaughtUp(stack, groupId, 15_000);
      // Thawed: the zombie finishes its batch and tries to commit it.
      frozen = false;
      thaw();
      await waitFor(
        'the zombie transaction to abort',
        async () => (await counterTotal(zombie.metrics, 'nextact_engine_transactions_total', { result: 'abort' })) > 0,
        10_000,
      );
      // It rejoins, the group settles and everything is still exactly once.
      await waitFor(
        'the group to settle',
        () => owned(zombie.engine).length + owned(successor.engine).length === 2 && zombie.engine.readiness().ready && successor.engine.readiness().ready,
        15_000,
      );
      await waitCaughtUp(stack, groupId, 15_000);
      await verifyRun(stack, domain, events);
    } finally {
      await stack.cleanup();
    }
  });
});

/** The client, with the first `n` transactions failing after their records were sent (a broker-side abort). */
function failingOnce(client: KafkaClient, n: number): KafkaClient & { failed(): number } {
  let failures = 0;
  return Object.assign(Object.create(client) as KafkaClient, {
    capabilities: client.capabilities,
    failed: () => failures,
    async transactionalProducer(id: string): Promise<TransactionalProducer> {
      const inner = await client.transactionalProducer(id);
      return {
        transactionalId: inner.transactionalId,
        close: () => inner.close(),
        transact: (work) =>
          inner.transact(async (tx) => {
            const result = await work(tx);
            if (failures < n) {
              failures += 1;
              throw new NextActError(ErrorCodes.KAFKA_COORDINATOR_MOVED, 'coordinator moved during commit (injected)', { retriable: true });
            }
            return result;
          }),
      };
    },
  });
}

describe('exactly-once v2 on the memory adapter', () => {
  it('commits several partitions in one instance transaction per interval', async () => {
    const stack = await memoryStack('v2-batching', 4, { maxBatchRecords: 20 });
    const domain = fakeDomain();
    const groupId = `${stack.prefix}engine`;
    const events = makeEvents(800, 40, 3);
    await produceEvents(stack, events);
    const run = await startEngine(stack, domain, { groupId, instanceId: 'a', kafka: stack.cluster.client(), commitIntervalMs: 50 });
    try {
      await waitCaughtUp(stack, groupId, 15_000);
      const transactions = await counterTotal(run.metrics, 'nextact_engine_transactions_total', { result: 'commit' });
      // 800 events in batches of at most 20 are 40+ batches; shared transactions need fewer commits.
      expect(transactions).toBeGreaterThan(0);
      expect(transactions).toBeLessThan(40);
      await verifyRun(stack, domain, events);
    } finally {
      await run.engine.stop();
      await stack.cleanup();
    }
  });

  it('refuses to start on a client without KIP-447 (as kafkajs), naming KAFKA_CLIENT, before joining the group', async () => {
    const stack = await memoryStack('v2-refused', 2, { kip447: false, cooperativeRebalance: false, revokeBeforeReassign: false });
    try {
      const started = startEngine(stack, fakeDomain(), { groupId: `${stack.prefix}engine`, instanceId: 'a', kafka: stack.cluster.client() });
      await expect(started).rejects.toMatchObject({ code: ErrorCodes.CONFIG_INVALID, retriable: false });
      await expect(started).rejects.toThrow(/needs a Kafka client with KIP-447[\s\S]*KAFKA_CLIENT=memory lacks it/);
      expect(stack.cluster.transactionalIds()).toEqual([]);
      const admin = await stack.kafka.admin();
      expect((await admin.listGroups()).includes(`${stack.prefix}engine`)).toBe(false);
      await admin.close();
    } finally {
      await stack.cleanup();
    }
  });
});
