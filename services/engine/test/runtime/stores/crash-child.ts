/**
 * Writes to a store in a loop until killed: each round puts every key with the round number, sets
 * their timers and a named value, commits with the round as the changelog offset, then writes the
 * next round's values without committing them. Prints `committed <n>` after each commit.
 */
import { openPartitionState, type StoreKind } from '../../../src/runtime/stores';

const [kind, dir, keysArg] = process.argv.slice(2) as [StoreKind, string, string];
const keys = Number(keysArg);
const codec = { encode: (v: string) => Buffer.from(v), decode: (b: Buffer) => b.toString() };

async function main(): Promise<void> {
  const state = await openPartitionState({ kind, dir }, 0, codec);
  for (let round = 1; ; round++) {
    for (let k = 0; k < keys; k++) {
      state.journeys.put(`key-${k}`, String(round));
      state.timers.set(`key-${k}`, round * 10 + (k % 7));
    }
    state.setValue('round', Buffer.from(String(round)));
    state.commit(String(round));
    process.stdout.write(`committed ${round}\n`);
    // Uncommitted: must never be seen after the kill.
    for (let k = 0; k < keys; k += 3) state.journeys.put(`key-${k}`, `${round}-uncommitted`);
    state.journeys.delete('key-1');
    state.timers.set('key-2', undefined);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

main().catch((err) => {
  process.stderr.write(`crash child failed: ${String(err)}\n`);
  process.exit(1);
});
