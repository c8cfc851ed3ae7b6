import type { OutgoingRecord } from './port';

/**
 * Clients put all of a partition's records of one call into one record batch, which the broker
 * refuses above message.max.bytes (1 MiB by default). Sends are cut into chunks well below it.
 */
const MAX_CHUNK_BYTES = 512 * 1024;
const MAX_CHUNK_RECORDS = 2_000;

export function chunkRecords(records: OutgoingRecord[], maxBytes = MAX_CHUNK_BYTES, maxRecords = MAX_CHUNK_RECORDS): OutgoingRecord[][] {
  const chunks: OutgoingRecord[][] = [];
  let current: OutgoingRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    let size = Buffer.byteLength(r.key) + (r.value?.length ?? 0) + 64;
    for (const [k, v] of Object.entries(r.headers ?? {})) size += k.length + Buffer.byteLength(v);
    if (current.length > 0 && (bytes + size > maxBytes || current.length >= maxRecords)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Runs sends one after another: clients let concurrent sends race for the broker and reorder
 * them, and one customer's records must keep their order.
 */
export function serialised<A extends unknown[], R>(send: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let queue: Promise<unknown> = Promise.resolve();
  return (...args: A) => {
    const turn = queue.then(() => send(...args));
    queue = turn.catch(() => undefined);
    return turn;
  };
}
