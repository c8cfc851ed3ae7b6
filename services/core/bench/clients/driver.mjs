// The bare exactly-once consume-transform-produce loop, shared by every client's file.
// A client file supplies only the Kafka calls (consume, begin, send, add offsets, commit); the loop, its
// timing and its latency accounting are the same for all, so the figures compare clients and nothing else.
//
// Loop: records arrive from the client -> one output record per input is sent inside the open transaction
// -> every COMMIT_INTERVAL_MS the consumed offsets (next = last + 1 per partition) join the transaction and
// it commits. An input's latency is its commit's end minus the input record's timestamp (set by the paced
// producer at send time), i.e. until the output is visible to read_committed readers.

export const COMMIT_INTERVAL_MS = 100;
const HIGH_WATER = 20_000; // buffered inputs above which the client is asked to stop fetching until the loop takes them

export function args() {
  const out = {};
  for (const a of process.argv.slice(2)) {
    const m = /^--([^=]+)=(.*)$/.exec(a);
    if (m) out[m[1]] = m[2];
  }
  for (const k of ['brokers', 'input', 'output', 'group', 'txid', 'count']) if (!out[k]) throw new Error(`missing --${k}=`);
  out.count = Number(out.count);
  // Latency runs: inputs stamped before this (epoch ms) are warm-up (group join, first fetches), not measured.
  out.measureAfter = Number(out['measure-after'] ?? 0);
  return out;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * @param {string} name client name for the report
 * @param {{
 *   start(onRecords: (records: {partition:number, offset:bigint, key:Buffer|null, value:Buffer|null, timestamp:number, raw:unknown}[]) => Promise<void> | void): Promise<void>,
 *   pause(): void, resume(): void,
 *   begin(): Promise<void>,
 *   send(records: {partition:number, key:Buffer|null, value:Buffer|null}[]): Promise<void>,
 *   commit(lastByPartition: Map<number, {offset:bigint, raw:unknown}>): Promise<void>,
 *   close(): Promise<void>,
 * }} client
 * @param {{count:number, measureAfter:number}} opts
 */
export async function runLoop(name, client, opts) {
  const t0 = performance.now();
  let buffer = [];
  let inTx = []; // input timestamps of records sent in the open transaction
  let lastByPartition = new Map();
  let txOpen = false;
  let txStarted = 0;
  let committed = 0;
  let commits = 0;
  let firstRecordAt = 0;
  let paused = false;
  let wake = null;
  const latencies = [];
  const cpu0 = process.cpuUsage();
  let drained = null; // resolves when the loop takes the buffer (for clients that await in their handler)

  const onRecords = (records) => {
    if (records.length === 0) return;
    if (firstRecordAt === 0) firstRecordAt = performance.now();
    for (const r of records) buffer.push(r);
    if (wake) wake();
    if (buffer.length > HIGH_WATER && !paused) {
      paused = true;
      client.pause();
    }
    if (paused) {
      drained ??= Promise.withResolvers();
      return drained.promise;
    }
  };

  const done = Promise.withResolvers();
  const worker = async () => {
    while (committed < opts.count) {
      if (buffer.length > 0) {
        if (!txOpen) {
          await client.begin();
          txOpen = true;
          txStarted = performance.now();
        }
        const batch = buffer;
        buffer = [];
        if (paused) {
          paused = false;
          client.resume();
          drained?.resolve();
          drained = null;
        }
        const outputs = new Array(batch.length);
        for (let i = 0; i < batch.length; i++) {
          const r = batch[i];
          // The transform: the same key, a value that names its input, so outputs are checkable.
          outputs[i] = { partition: r.partition, key: r.key, value: r.value };
          inTx.push(r.timestamp);
          lastByPartition.set(r.partition, r);
        }
        await client.send(outputs);
      }
      if (txOpen && performance.now() - txStarted >= COMMIT_INTERVAL_MS) {
        await client.commit(lastByPartition);
        const now = Date.now();
        for (const ts of inTx) if (ts >= opts.measureAfter) latencies.push(now - ts);
        committed += inTx.length;
        commits++;
        inTx = [];
        lastByPartition = new Map();
        txOpen = false;
        continue;
      }
      if (buffer.length === 0) {
        const wait = txOpen ? Math.max(1, COMMIT_INTERVAL_MS - (performance.now() - txStarted)) : 50;
        await new Promise((resolve) => {
          const t = setTimeout(resolve, wait);
          wake = () => {
            clearTimeout(t);
            wake = null;
            resolve();
          };
        });
      }
    }
    done.resolve();
  };

  if (process.env.SPIKE_DEBUG) {
    setInterval(() => console.error(`${name}: buffered ${buffer.length} in-tx ${inTx.length} committed ${committed} commits ${commits}`), 1000).unref();
  }
  await client.start(onRecords);
  const joinedAt = performance.now();
  worker().catch(done.reject);
  await done.promise;
  const end = performance.now();
  const cpu = process.cpuUsage(cpu0);
  await client.close();
  latencies.sort((a, b) => a - b);
  const seconds = (end - firstRecordAt) / 1000;
  const result = {
    client: name,
    records: committed,
    commits,
    seconds: Number(seconds.toFixed(3)),
    records_per_s: Math.round(committed / seconds),
    start_to_first_record_ms: Math.round(firstRecordAt - t0),
    connect_ms: Math.round(joinedAt - t0),
    cpu_ms_per_1k: Number((((cpu.user + cpu.system) / 1000 / committed) * 1000).toFixed(1)),
    latency_samples: latencies.length,
    latency_ms: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? null },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // Client libraries may hold timers or sockets after close; the measurement is complete.
  process.exit(0);
}
