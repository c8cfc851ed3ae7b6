/**
 * The broker's own ceiling: Kafka's producer and consumer perf tools from the broker's release
 * (`scripts/stack.sh kafka-tool`), on topics created first (auto-create is off on the local broker).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../lib/services';
import { type BenchContext, openScope, round } from './lib';

function tool(ctx: BenchContext, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((done, fail) => {
    const proc = spawn('bash', [join(repoRoot, 'scripts', 'stack.sh'), 'kafka-tool', ...args], { cwd: repoRoot, env: process.env, detached: true });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) done(out);
      else fail(new Error(`kafka-tool ${args[0]} exited with ${code}:\n${out.slice(-2_000)}`));
    });
    ctx.say(`kafka-tool ${args.slice(0, 3).join(' ')} ...`);
  });
}

export interface BrokerCeiling {
  produceRps: number;
  consumeRps: number;
  produceMBps: number;
  produceP99Ms: number;
}

/** One record size: producer-perf-test (acks=all, idempotent) then consumer-perf-test over the same records. */
async function atSize(ctx: BenchContext, recordSize: number): Promise<BrokerCeiling> {
  const scope = await openScope(ctx, `broker${recordSize}`, false);
  const topic = `${scope.prefix}perf`;
  const records = ctx.sizes.brokerRecords;
  const admin = await scope.kafka.admin();
  try {
    await admin.ensureTopics([{ name: topic, partitions: ctx.partitions, replicationFactor: 1 }]);
    const bootstrap = scope.config.kafkaBrokers.join(',');
    const produced = await tool(
      ctx,
      [
        'producer-perf-test',
        '--topic',
        topic,
        '--num-records',
        String(records),
        '--record-size',
        String(recordSize),
        '--throughput',
        '-1',
        '--producer-props',
        `bootstrap.servers=${bootstrap}`,
        'acks=all',
        'enable.idempotence=true',
      ],
      300_000,
    );
    // Last summary line: "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency, p50, p95, p99, p99.9".
    const summary = produced
      .split('\n')
      .filter((l) => / records sent, .*records\/sec/.test(l))
      .at(-1);
    const m = summary && /records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\).* ([\d.]+) ms 99th/.exec(summary);
    if (!m) throw new Error(`producer-perf-test printed no summary:\n${produced.slice(-1_500)}`);
    const consumed = await tool(
      ctx,
      ['consumer-perf-test', '--bootstrap-server', bootstrap, '--topic', topic, '--num-records', String(records), '--timeout', '60000'],
      300_000,
    );
    // CSV: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
    const row = consumed
      .split('\n')
      .map((l) => l.split(',').map((x) => x.trim()))
      .filter((c) => c.length >= 10 && /^\d/.test(c[4] ?? ''))
      .at(-1);
    if (!row) throw new Error(`consumer-perf-test printed no result:\n${consumed.slice(-1_500)}`);
    const result = { produceRps: round(Number(m[1])), produceMBps: Number(m[2]), produceP99Ms: Number(m[3]), consumeRps: round(Number(row[5])) };
    ctx.details[`broker_${recordSize}B`] = { ...result, records, consumeFetchOnlyRps: round(Number(row[9])), consumedRecords: Number(row[4]) };
    return result;
  } finally {
    await admin.close();
    await scope.drop();
  }
}

export async function brokerCeiling(ctx: BenchContext, avroBytes: number): Promise<{ at200: BrokerCeiling; atAvro: BrokerCeiling }> {
  const at200 = await atSize(ctx, 200);
  const atAvro = await atSize(ctx, avroBytes);
  return { at200, atAvro };
}
