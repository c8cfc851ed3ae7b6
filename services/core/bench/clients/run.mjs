// Issue 15 client spike: runs the bare exactly-once loop of each client against one broker, in one run,
// on the same input sizes, each client twice, interleaved (the machine is shared: compare within a run),
// plus Kafka's own perf tools as the ceiling. Every run has its own topics and group, deleted afterwards.
//
//   cd services/core/bench/clients && CKJS_LINKING=dynamic npm install && node run.mjs
//
// Options (--name=value): brokers (127.0.0.1:9092), count (200000 pre-produced records per throughput run),
// partitions (6), rate (5000 records/s for the latency runs), seconds (13, of which warmup 3 not measured),
// rounds (2), clients (kafkajs,confluent,platformatic), out (results-<stamp>.jsonl).
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..', '..');
const opt = {
  brokers: '127.0.0.1:9092',
  count: '200000',
  partitions: '6',
  rate: '5000',
  seconds: '13',
  warmup: '3',
  rounds: '2',
  clients: 'kafkajs,confluent,platformatic',
  ...Object.fromEntries(process.argv.slice(2).map((s) => /^--([^=]+)=(.*)$/.exec(s).slice(1))),
};
const stamp = new Date()
  .toISOString()
  .replace(/[-:T]/g, '')
  .replace(/\..*$/, '');
const prefix = `spike-${stamp}-`;
const outFile = opt.out ?? join(here, `results-${stamp}.jsonl`);
const count = Number(opt.count);
const partitions = Number(opt.partitions);

const kafka = new kafkajs.Kafka({ clientId: 'spike-run', brokers: opt.brokers.split(','), logLevel: kafkajs.logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();

function sh(cmd, cmdArgs, { cwd = here, quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, cmdArgs, { cwd, env: process.env });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('close', (code) => {
      if (code !== 0) reject(new Error(`${cmd} ${cmdArgs.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      else {
        if (!quiet && err.trim()) process.stderr.write(err);
        resolve(out);
      }
    });
  });
}
const kafkaTool = (tool, toolArgs) => sh('bash', [join(root, 'scripts', 'stack.sh'), 'kafka-tool', tool, ...toolArgs], { cwd: root, quiet: true });

function record(result) {
  appendFileSync(outFile, `${JSON.stringify(result)}\n`);
  console.log(JSON.stringify(result));
}

async function createTopics(names) {
  await admin.createTopics({ waitForLeaders: true, topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
}

async function fill(topic, n) {
  // Kafka's own producer fills the input, so every client reads the same kind of data.
  const out = await kafkaTool('producer-perf-test', [
    '--topic',
    topic,
    '--num-records',
    String(n),
    '--record-size',
    '200',
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${opt.brokers}`,
    'acks=all',
  ]);
  return out.trim().split('\n').at(-1);
}

async function cleanup(topics, groups) {
  await admin.deleteTopics({ topics }).catch((e) => console.error(`delete topics: ${e.message}`));
  await admin.deleteGroups(groups).catch((e) => console.error(`delete groups: ${e.message}`));
}

async function ceiling() {
  const topic = `${prefix}perf`;
  const group = `${prefix}perf-group`;
  await createTopics([topic]);
  const produced = await fill(topic, count);
  // "200000 records sent, 96153.8 records/sec (18.34 MB/sec), 900.12 ms avg latency, 1300.00 ms max latency, ... 99th"
  const p = /([\d.]+) records\/sec.*?([\d.]+) ms avg latency.*?([\d.]+) ms max latency.*?([\d.]+) ms 50th.*?([\d.]+) ms 99th/.exec(produced);
  const consumed = await kafkaTool('consumer-perf-test', ['--bootstrap-server', opt.brokers, '--topic', topic, '--messages', String(count), '--group', group]);
  // header + one CSV line: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
  const line = consumed.trim().split('\n').at(-1).split(',');
  record({
    client: 'kafka-perf-tools',
    producer_records_per_s: p ? Math.round(Number(p[1])) : produced,
    producer_p99_ms: p ? Number(p[5]) : null,
    consumer_records_per_s: Math.round(Number(line[5])),
  });
  await cleanup([topic], [group]);
}

async function throughput(client, round) {
  const base = `${prefix}${client}-r${round}-tp-`;
  const [input, output, group] = [`${base}in`, `${base}out`, `${base}group`];
  await createTopics([input, output]);
  await fill(input, count);
  const out = await sh(process.execPath, [
    join(here, `loop-${client}.mjs`),
    `--brokers=${opt.brokers}`,
    `--input=${input}`,
    `--output=${output}`,
    `--group=${group}`,
    `--txid=${base}tx`,
    `--count=${count}`,
  ]);
  const result = JSON.parse(out.trim().split('\n').at(-1));
  // Exactly what was read must be committed: the group's offsets equal the input's end offsets.
  const ends = await admin.fetchTopicOffsets(input);
  const [committed] = await admin.fetchOffsets({ groupId: group, topics: [input] });
  const endSum = ends.reduce((s, p) => s + Number(p.high), 0);
  const committedSum = committed.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  record({ mode: 'throughput', round, ...result, input_end: endSum, group_committed: committedSum });
  await cleanup([input, output], [group]);
}

async function latency(client, round) {
  const base = `${prefix}${client}-r${round}-lat-`;
  const [input, output, group] = [`${base}in`, `${base}out`, `${base}group`];
  await createTopics([input, output]);
  const rate = Number(opt.rate);
  const seconds = Number(opt.seconds);
  const measureAfter = Date.now() + Number(opt.warmup) * 1000;
  const loop = sh(process.execPath, [
    join(here, `loop-${client}.mjs`),
    `--brokers=${opt.brokers}`,
    `--input=${input}`,
    `--output=${output}`,
    `--group=${group}`,
    `--txid=${base}tx`,
    `--count=${rate * seconds}`,
    `--measure-after=${measureAfter}`,
  ]);
  const paced = await sh(process.execPath, [join(here, 'pace.mjs'), `--brokers=${opt.brokers}`, `--topic=${input}`, `--rate=${rate}`, `--seconds=${seconds}`]);
  const result = JSON.parse((await loop).trim().split('\n').at(-1));
  record({ mode: 'latency', round, rate, ...result, paced: JSON.parse(paced) });
  await cleanup([input, output], [group]);
}

const clients = opt.clients.split(',');
console.error(`spike ${prefix} -> ${outFile}`);
await ceiling();
for (let round = 1; round <= Number(opt.rounds); round++) {
  for (const client of clients) await throughput(client, round);
  for (const client of clients) await latency(client, round);
}
await ceiling();
await admin.disconnect();
