/**
 * The engine end to end on the in-memory Kafka adapter (no broker), NBA domain, on one store:
 * events/s and process CPU µs per event, to compare ENGINE_STORE choices without broker noise.
 *   node --import tsx services/engine/bench/store-eps.ts [memory|lmdb] [events]
 */
import { join } from 'node:path';
import { createNbaDomain } from '../src/nba';
import { loadPolicy } from '../src/policy/load';
import type { StoreKind } from '../src/runtime/stores';
import { makeEvents, produceEvents, startEngine, waitCaughtUp } from '../test/runtime/helpers';
import { memoryStack } from '../test/runtime/memory-stack';

const store = (process.argv[2] ?? 'memory') as StoreKind;
const n = Number(process.argv[3] ?? 40_000);

async function main(): Promise<void> {
  const stack = await memoryStack(`eps-${store}`, 4, { maxBatchRecords: 2000 });
  const domain = createNbaDomain(loadPolicy(join(__dirname, '../policy/policy.yaml')));
  const events = makeEvents(n, 5000, 3);
  await produceEvents(stack, events);
  const groupId = `${stack.prefix}engine`;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const run = await startEngine(stack, domain, { groupId, instanceId: 'a', kafka: stack.cluster.client(), store });
  await waitCaughtUp(stack, groupId, 300_000);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    JSON.stringify({
      store,
      events: n,
      seconds: Math.round(seconds * 100) / 100,
      eps: Math.round(n / seconds),
      cpuUsPerEvent: Math.round((cpu.user + cpu.system) / n),
    }),
  );
  await run.engine.stop();
  await stack.cleanup();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
