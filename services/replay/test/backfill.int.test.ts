/**
 * Backfill into a real (embedded) ClickHouse from the real broker: over a range the sink already
 * stored it adds zero rows; a partial backfill followed by an overlapping one stores every record
 * exactly once; an interrupted backfill resumes to the same result.
 */

import { join } from 'node:path';
import { ClickHouseSink, createClickHouse, createSinkMetrics, migrate } from '@nextact/analytics';
import { silentLogger } from '@nextact/core';
import { Registry } from 'prom-client';
import { encodeAll, makeDecisions, makeEvents, produceAll, provisioned, testConfig, waitFor } from '../../analytics/test/helpers';
import { runBackfill } from '../src/backfill';
import { openContext, type ReplayContext } from '../src/context';
import { Interrupt, Interrupted } from '../src/progress';

jest.setTimeout(110_000);

const config = testConfig('replay-backfill');
let env: Awaited<ReturnType<typeof provisioned>>;
let ctx: ReplayContext;
// chdb: one data folder per process, so both tests share one store (the second empties the table first).
let store: ReturnType<typeof createClickHouse>;
const N_EVENTS = 2_400;
const N_DECISIONS = 900;

beforeAll(async () => {
  env = await provisioned(config, 'replay-backfill');
  await produceAll(env.kafka, encodeAll(env.codec, env.topics, makeEvents(N_EVENTS, 150, 3), makeDecisions(N_DECISIONS, 150, 4)));
  store = createClickHouse(config);
  await migrate(store, silentLogger);
  ctx = await openContext({ env: { ...process.env, NEXTACT_TOPIC_PREFIX: config.topicPrefix, NEXTACT_PARTITIONS: '3' }, logger: silentLogger });
});

afterAll(async () => {
  await store?.close();
  await ctx?.close();
  await env?.cleanup();
});

const count = async (table: string) => Number((await store.rows<{ n: number }>(`SELECT count() AS n FROM nextact.${table}`))[0]!.n);

describe('replay backfill', () => {
  it('adds zero rows over a range the sink already stored', async () => {
    {
      const sink = new ClickHouseSink({
        store,
        kafka: env.kafka,
        codec: env.codec,
        topics: env.topics,
        groupId: `${config.topicPrefix}sink`,
        logger: silentLogger,
        metrics: createSinkMetrics(new Registry()),
        maxRows: 500,
        maxWaitMs: 200,
      });
      void sink.start();
      try {
        await waitFor('sunk', async () => (await count('events')) === N_EVENTS && (await count('decisions')) === N_DECISIONS);
      } finally {
        await sink.stop();
      }
      const progressFile = join(config.dataDir, 'sunk.progress');
      // Block boundaries (300) differ from the sink's batches (500): the existence check is what holds.
      const events = await runBackfill(ctx, { source: 'events', range: { whole: true }, store, blockOffsets: 300, progressFile, progress: false });
      const decisions = await runBackfill(ctx, {
        source: 'decisions',
        range: { offsets: [{ partition: 1, from: '10' }] },
        store,
        progressFile,
        progress: false,
      });
      expect(events.recordsRead).toBe(N_EVENTS);
      expect(events.alreadyStored).toBe(N_EVENTS);
      expect(events.inserted).toBe(0);
      expect(decisions.alreadyStored).toBeGreaterThan(0);
      expect(decisions.inserted).toBe(0);
      expect(await count('events')).toBe(N_EVENTS);
      expect(await count('decisions')).toBe(N_DECISIONS);
    }
  });

  it('stores every record once across a partial, an interrupted and an overlapping backfill', async () => {
    {
      await store.exec('TRUNCATE TABLE nextact.events');
      expect(await count('events')).toBe(0);
      const progressFile = join(config.dataDir, 'fresh.progress');
      const first = await runBackfill(ctx, {
        source: 'events',
        range: {
          offsets: [
            { partition: 0, until: '400' },
            { partition: 2, from: '100', until: '300' },
          ],
        },
        store,
        progressFile,
        progress: false,
      });
      expect(first.inserted).toBe(first.recordsRead);
      expect(first.inserted).toBeGreaterThan(0);
      const interrupt = new Interrupt();
      interrupt.requested = true;
      await expect(
        runBackfill(ctx, { source: 'events', range: { whole: true }, store, blockOffsets: 250, progressFile, progress: false, interrupt }),
      ).rejects.toThrow(Interrupted);
      const whole = await runBackfill(ctx, { source: 'events', range: { whole: true }, store, blockOffsets: 250, progressFile, progress: false });
      expect(whole.resumed).toBe(true);
      expect(whole.inserted).toBe(N_EVENTS - first.inserted);
      // The interrupted run did partition 0's first block (offsets 0-249, stored by the first backfill) before it stopped.
      expect(whole.alreadyStored).toBe(first.inserted - 250);
      const again = await runBackfill(ctx, { source: 'events', range: { whole: true }, store, progressFile, progress: false });
      expect(again.inserted).toBe(0);
      expect(await count('events')).toBe(N_EVENTS);
      const dupes = await store.rows<{ n: number }>(
        `SELECT count() AS n FROM (SELECT kafka_partition, kafka_offset FROM nextact.events GROUP BY kafka_partition, kafka_offset HAVING count() > 1)`,
      );
      expect(Number(dupes[0]!.n)).toBe(0);
    }
  });
});
