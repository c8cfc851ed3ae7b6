/**
 * The engine's real restore (`restorePartitions`) on the real broker, without the engine around it:
 * `--journeys` changelog records of young journeys (the NBA domain's own encoding, framed, with
 * their `timer-due` header, as the engine writes them) over `--partitions`, restored into fresh
 * stores `--rounds` times. Prints records/s and main-thread CPU per record per round; beside it,
 * `services/core/bench/read-partitions.ts` gives the bare read.
 *
 *   npx tsx services/engine/bench/restore.ts [--journeys 300000] [--partitions 4] [--rounds 3] [--store memory|lmdb] [--keep | --topic T]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { customerEventTypes, kafkaFromConfig, loadConfig, silentLogger, validateRecord } from '@nextact/core';
import { createNbaDomain } from '../src/nba';
import { loadPolicy } from '../src/policy/load';
import { ChangelogCodec } from '../src/runtime/changelog';
import { restorePartitions } from '../src/runtime/restore';
import { PartitionStore, TIMER_HEADER, timerHeader } from '../src/runtime/store';
import { openPartitionState, type StoreKind } from '../src/runtime/stores';

const { values } = parseArgs({
  options: {
    journeys: { type: 'string', default: '300000' },
    partitions: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    store: { type: 'string', default: 'memory' },
    keep: { type: 'boolean', default: false },
    topic: { type: 'string' },
  },
});
const n = Number(values.journeys);
const partitions = Number(values.partitions);
const kind = values.store as StoreKind;
const domain = createNbaDomain(loadPolicy('services/engine/policy/policy.yaml'));
// Framed with id 7 as the current schema: a codec whose registration says so (no registry needed).
const codec = { register: async () => new Map(), schemaId: () => 7 } as never;
const changelog = new ChangelogCodec(domain, { codec, topic: 't' });

function journeyRecords(from: number, count: number, topic: string) {
  const event = {
    name: customerEventTypes.browse,
    value: validateRecord(customerEventTypes.browse, {
      eventId: 'e-1',
      customerId: 'c-0000000',
      eventTime: Date.UTC(2026, 0, 1),
      source: 'bench',
      kind: 'PRODUCT_VIEW',
      productId: 'sku-1',
      category: 'bench',
    }),
  };
  const journey = domain.onEvent(undefined, domain.initialLearner(), event, 0).journey;
  const template = domain.serialiseJourney(journey).toString('latin1');
  const due = timerHeader(domain.nextTimer(journey));
  const frame = Buffer.from([0, 0, 0, 0, 7]);
  return Array.from({ length: count }, (_, j) => {
    const i = from + j;
    const id = `c-${String(i).padStart(7, '0')}`;
    return {
      topic,
      key: id,
      partition: i % partitions,
      value: Buffer.concat([frame, Buffer.from(template.split('c-0000000').join(id), 'latin1')]),
      headers: { [TIMER_HEADER]: due },
    };
  });
}

async function main(): Promise<void> {
  await changelog.register();
  const kafka = kafkaFromConfig(loadConfig(process.env), silentLogger, 'bench-restore');
  const admin = await kafka.admin();
  const topic = values.topic ?? `bench-restore-${process.pid}-${Date.now()}`;
  const dir = mkdtempSync(join(tmpdir(), 'bench-restore-'));
  try {
    if (!values.topic) {
      await admin.ensureTopics([{ name: topic, partitions, replicationFactor: 1, config: { 'cleanup.policy': 'compact' } }]);
      const producer = await kafka.producer({ idempotent: true });
      for (let sent = 0; sent < n; sent += 5_000) await producer.send(journeyRecords(sent, Math.min(5_000, n - sent), topic));
      await producer.close();
    }
    console.log(JSON.stringify({ topic, journeys: n, partitions, store: kind, node: process.version }));
    for (let round = 1; round <= Number(values.rounds); round++) {
      const items = await Promise.all(
        Array.from({ length: partitions }, async (_, partition) => ({
          partition,
          store: new PartitionStore(domain, await openPartitionState({ kind, dir: join(dir, String(round)) }, partition, changelog.journeyValues), changelog),
        })),
      );
      const cpu0 = process.threadCpuUsage();
      const t0 = performance.now();
      const outcomes = await restorePartitions({ kafka, admin, changelogTopic: topic, items, logger: silentLogger });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.threadCpuUsage(cpu0);
      const records = outcomes.reduce((s, o) => s + o.records, 0);
      const journeys = items.reduce((s, i) => s + i.store.size, 0);
      if (journeys !== n) throw new Error(`restored ${journeys} journeys, wrote ${n}`);
      console.log(
        JSON.stringify({
          round,
          recordsPerSecond: Math.round(records / seconds),
          seconds: Number(seconds.toFixed(2)),
          cpuMicrosPerRecord: Number(((cpu.user + cpu.system) / records).toFixed(2)),
        }),
      );
      for (const i of items) await i.store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (!values.keep && !values.topic) await admin.deleteTopics([topic]).catch(() => {});
    await admin.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
