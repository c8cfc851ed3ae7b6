/**
 * `npm run -s decisions -- tail [--customer ID] [--follow] [--from earliest|latest|TIME] [--limit N] [--prefix P] [--json]`
 *
 * The decisions inspector for channel teams: reads `<prefix>decisions` (committed records only),
 * decodes each through the schema registry and prints the full reasons, the score breakdown, the
 * experiment arm and what `deliver` means.
 */
import { parseArgs } from 'node:util';
import { codecFromConfig, type Decision, errorMessage, kafkaFromConfig, loadConfig, silentLogger, topicNames } from '../services/core/src';
import { describeDecision } from './lib/decision-view';

const usage = `usage: npm run -s decisions -- tail [options]
  --customer ID   only this customer's decisions
  --follow        keep reading new decisions (Ctrl-C to stop)
  --from WHEN     earliest | latest | an ISO time or epoch ms (decision event time);
                  default: earliest, showing the last --limit decisions
  --limit N       show at most the last N decisions read before following (default 20; 0 = all)
  --prefix P      topic prefix (default NEXTACT_TOPIC_PREFIX, e.g. demo-20261201213000.)
  --topic T       the decisions topic itself (overrides --prefix)
  --json          one JSON object per line: { partition, offset, decision }
  --poll-ms MS    how often --follow looks for new decisions (default 1000)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(64);
}

/** `--from` as an event-time lower bound in epoch ms; null for earliest/latest. */
export function parseFrom(raw: string): { mode: 'earliest' | 'latest' } | { mode: 'time'; ms: number } {
  if (raw === 'earliest' || raw === 'latest') return { mode: raw };
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) fail(`--from must be earliest, latest, an ISO time or epoch ms; got ${JSON.stringify(raw)}`);
  return { mode: 'time', ms };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      customer: { type: 'string' },
      follow: { type: 'boolean', default: false },
      from: { type: 'string', default: 'earliest' },
      limit: { type: 'string', default: '20' },
      prefix: { type: 'string' },
      topic: { type: 'string' },
      json: { type: 'boolean', default: false },
      'poll-ms': { type: 'string', default: '1000' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (positionals[0] !== 'tail' || positionals.length > 1) fail(positionals.length ? `unknown command ${positionals.join(' ')}` : 'missing command');
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 0) fail('--limit must be a non-negative integer');
  const pollMs = Number(values['poll-ms']);
  if (!Number.isInteger(pollMs) || pollMs < 100) fail('--poll-ms must be an integer >= 100');
  const from = parseFrom(values.from!);

  const env = values.prefix ? { ...process.env, NEXTACT_TOPIC_PREFIX: values.prefix } : process.env;
  const config = loadConfig(env);
  const topic = values.topic ?? topicNames(config.topicPrefix).decisions;
  const kafka = kafkaFromConfig(config, silentLogger, 'decisions-tail');
  const codec = codecFromConfig(config, silentLogger);
  const admin = await kafka.admin();
  let marks: { partition: number; low: string; high: string }[];
  try {
    if (!(await admin.listTopics()).includes(topic))
      fail(`no topic ${topic} on ${config.kafkaBrokers.join(',')}; pass --prefix (a demo prints its own, e.g. demo-<stamp>.) or --topic`);
    marks = await admin.watermarks(topic);
  } finally {
    await admin.close();
  }

  const next = new Map(marks.map((m) => [m.partition, from.mode === 'latest' ? m.high : m.low]));
  const show = (partition: number, offset: string, d: Decision) =>
    process.stdout.write(values.json ? `${JSON.stringify({ partition, offset, decision: d })}\n` : `${describeDecision(d, { partition, offset })}\n\n`);

  /** Reads every partition from `next` up to its end now; returns the matching decisions in event-time order. */
  const readOnce = async () => {
    const found: { partition: number; offset: string; d: Decision }[] = [];
    const results = await kafka.readPartitions(
      topic,
      [...next].map(([partition, offset]) => ({ partition, from: offset })),
      async (records) => {
        for (const r of records) {
          if (values.customer !== undefined && r.key !== values.customer) continue;
          if (!r.value) continue;
          const d = (await codec.decode(r.value)).value as Decision;
          if (from.mode === 'time' && d.eventTime < from.ms) continue;
          found.push({ partition: r.partition, offset: r.offset, d });
        }
      },
      // A read ends at each partition's end now; an engine's open transaction is waited for (it commits within its interval).
    );
    for (const r of results) next.set(r.partition, r.until);
    return found.sort((a, b) => a.d.eventTime - b.d.eventTime || a.partition - b.partition);
  };

  const first = await readOnce();
  const shown = limit > 0 ? first.slice(-limit) : first;
  for (const f of shown) show(f.partition, f.offset, f.d);
  if (!values.json) {
    const what = values.customer ? `customer ${values.customer}` : 'all customers';
    process.stderr.write(`(${shown.length} of ${first.length} decisions shown from ${topic}, ${what}${values.follow ? '; following' : ''})\n`);
  }
  if (!values.follow) return;
  let stopping = false;
  process.once('SIGINT', () => {
    stopping = true;
  });
  while (!stopping) {
    await new Promise((r) => setTimeout(r, pollMs));
    for (const f of await readOnce()) show(f.partition, f.offset, f.d);
  }
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    process.stderr.write(`decisions: ${errorMessage(err)}\n`);
    process.exit(1);
  });
