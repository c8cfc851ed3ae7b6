/**
 * The restore's in-process part, without Kafka: N changelog values of young journeys (the NBA
 * domain's own encoding, registry-framed) folded into a partition store the way restore.ts does:
 * lmdb takes the latest value per key in slices of 50,000 keys, memory takes each fetch's worth
 * (here 5,000 records) as it comes. The real restore on the broker: bench/restore.ts. For profiling: `node --cpu-prof --import tsx
 * services/engine/bench/restore-apply.ts --journeys 200000 --store memory [--no-header]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { customerEventTypes, validateRecord } from '@nextact/core';
import { createNbaDomain } from '../src/nba';
import { loadPolicy } from '../src/policy/load';
import { ChangelogCodec } from '../src/runtime/changelog';
import { PartitionStore, type RestoredValue, timerFromHeader, timerHeader } from '../src/runtime/store';
import { openPartitionState, type StoreKind } from '../src/runtime/stores';

const { values } = parseArgs({ options: { journeys: { type: 'string' }, store: { type: 'string' }, 'no-header': { type: 'boolean' } } });
// Records written before they carried their timer header: restore decodes each to find it.
const withHeader = !values['no-header'];
const n = Number(values.journeys ?? 200_000);
const kind = (values.store ?? 'memory') as StoreKind;
const domain = createNbaDomain(loadPolicy('services/engine/policy/policy.yaml'));
const event = {
  name: customerEventTypes.browse,
  value: validateRecord(customerEventTypes.browse, {
    eventId: 'e-1',
    customerId: 'c-0000000',
    eventTime: Date.UTC(2026, 0, 1),
    source: 'bench',
    schemaVersion: 1,
    kind: 'PRODUCT_VIEW',
    sessionId: null,
    url: null,
    productId: 'sku-1',
    category: 'bench',
    query: null,
  }),
};
const journey = domain.onEvent(undefined, domain.initialLearner(), event, 0).journey;
const template = domain.serialiseJourney(journey).toString('latin1');
const due = domain.nextTimer(journey);
const header = Buffer.from([0, 0, 0, 0, 7]);
const records: [string, Buffer][] = [];
for (let i = 0; i < n; i++) {
  const id = `c-${String(i).padStart(7, '0')}`;
  records.push([id, Buffer.concat([header, Buffer.from(template.split('c-0000000').join(id), 'latin1')])]);
}
// Framed with id 7 as the current schema: a codec whose registration says so.
const codec = { register: async () => new Map(), schemaId: () => 7 } as never;
const values_ = new ChangelogCodec(domain, { codec, topic: 't' });

async function main(): Promise<void> {
  await values_.register();
  const dir = mkdtempSync(join(tmpdir(), 'restore-apply-'));
  try {
    const state = await openPartitionState({ kind, dir }, 0, values_.journeyValues);
    const store = new PartitionStore(domain, state, values_);
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const cpu0 = process.threadCpuUsage();
    const latest = new Map<string, RestoredValue>();
    for (const [k, v] of records) {
      const normalised = values_.normalise(v);
      const bytes = normalised instanceof Promise ? await normalised : normalised;
      latest.set(k, [bytes, withHeader ? timerFromHeader(timerHeader(due)) : null]);
      if (latest.size >= (kind === 'memory' ? 5_000 : 50_000)) {
        store.applyChangelog(latest, '1');
        latest.clear();
      }
    }
    store.applyChangelog(latest, String(n));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.threadCpuUsage(cpu0);
    // Main-thread CPU per record: what a loaded, shared machine does not distort as much as wall time.
    const cpuUsPerRecord = Math.round(((cpu.user + cpu.system) / n) * 100) / 100;
    globalThis.gc?.();
    const heap = process.memoryUsage().heapUsed - heap0;
    console.log(
      JSON.stringify({
        store: kind,
        withHeader,
        journeys: store.size,
        seconds: Math.round(seconds * 1000) / 1000,
        rps: Math.round(n / seconds),
        cpuUsPerRecord,
        heapPerJourney: Math.round(heap / n),
      }),
    );
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
