/**
 * The figures of a bench run, what each is compared with, and the README block rendered from a
 * run's JSON (`npx tsx scripts/bench/report.ts --readme [FILE]`; default: the newest full run).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../lib/services';

/** The issue's names, in its order. */
export const figureNames = [
  'broker_produce_rps',
  'broker_consume_rps',
  'produce_eps',
  'gateway_eps',
  'gateway_p99_ms',
  'engine_eps',
  'engine_eps_2_instances',
  'engine_eps_1m_journeys',
  'replay_eps',
  'latency_p50_ms_1k',
  'latency_p99_ms_1k',
  'latency_p50_ms_5k',
  'latency_p99_ms_5k',
  'latency_p999_ms_5k',
  'restore_rps',
  'restore_1m_s',
  'bytes_per_journey_heap',
  'bytes_per_journey_rss',
  'sink_rps',
  'sink_ceiling_rps',
] as const;

export type FigureName = (typeof figureNames)[number];
export type Figures = Record<FigureName, number | null>;

/** Figures that quick mode leaves out. */
export const bigStateFigures: readonly FigureName[] = ['engine_eps_1m_journeys', 'restore_1m_s'];

const meaning: Record<FigureName, string> = {
  broker_produce_rps: "Kafka's producer-perf-test, 200 B, acks=all, idempotent (records/s)",
  broker_consume_rps: "Kafka's consumer-perf-test over those records (records/s)",
  produce_eps: 'Simulator → Kafka, Avro with registry ids (events/s)',
  gateway_eps: 'Gateway HTTP ingest, 202 after the broker ack, batches of 100, 8 clients (events/s)',
  gateway_p99_ms: 'Gateway request latency p99 (ms)',
  engine_eps: 'Engine backlog, 1 instance, exactly-once, 10k journeys (events/s)',
  engine_eps_2_instances: 'Engine backlog, 2 instances in one group (events/s)',
  engine_eps_1m_journeys: 'Engine backlog, 1 instance, 1M journeys in state (events/s)',
  replay_eps: 'Replay shadow run over the same world as engine_eps, shipped policy, to a JSON Lines file (events/s)',
  latency_p50_ms_1k: 'Event produced → decision seen by a read_committed consumer, p50 at 1k events/s (ms)',
  latency_p99_ms_1k: 'Same, p99 at 1k events/s (ms)',
  latency_p50_ms_5k: 'Same, p50 at 5k events/s (ms)',
  latency_p99_ms_5k: 'Same, p99 at 5k events/s (ms)',
  latency_p999_ms_5k: 'Same, p99.9 at 5k events/s (ms)',
  restore_rps: 'Restore from the changelog by a fresh process (records/s)',
  restore_1m_s: 'Restore of 1M journeys from the changelog (s)',
  bytes_per_journey_heap: 'Heap per journey after a full GC (bytes)',
  bytes_per_journey_rss: 'RSS per journey (bytes)',
  sink_rps: 'Kafka → embedded ClickHouse through the analytics service (rows/s)',
  sink_ceiling_rps: 'The same rows bulk-inserted into the same table by chdb, best format (rows/s)',
};

/** Issue #10's targets for the work that follows (2 cores, exactly-once); shown in the README only. */
const targets: Partial<Record<FigureName, string>> = {
  engine_eps: '≥ 50,000',
  replay_eps: '≥ 0.8 of engine_eps',
  latency_p99_ms_5k: '≤ 50',
  restore_rps: '≥ 200,000',
  restore_1m_s: '≤ 5',
  bytes_per_journey_heap: '≤ 1,000',
  sink_rps: '≥ 200,000 or ≥ 0.5 of ceiling',
};

/** What each figure is shown beside: a ceiling measured in the same run, or a baseline figure. */
const comparedWith: Partial<Record<FigureName, { name: string; of: (f: Figures, extra: Record<string, number | null>) => number | null }>> = {
  produce_eps: { name: 'broker producer at Avro size', of: (_, x) => x.broker_produce_avro_rps ?? null },
  gateway_eps: { name: 'broker producer at Avro size', of: (_, x) => x.broker_produce_avro_rps ?? null },
  engine_eps: { name: 'broker consumer at Avro size', of: (_, x) => x.broker_consume_avro_rps ?? null },
  engine_eps_2_instances: { name: 'engine_eps', of: (f) => f.engine_eps },
  engine_eps_1m_journeys: { name: 'engine_eps', of: (f) => f.engine_eps },
  replay_eps: { name: 'engine_eps', of: (f) => f.engine_eps },
  restore_rps: { name: 'broker consumer at Avro size', of: (_, x) => x.broker_consume_avro_rps ?? null },
  gateway_p99_ms: { name: 'broker producer p99 at Avro size', of: (_, x) => x.broker_produce_avro_p99_ms ?? null },
  latency_p50_ms_1k: { name: "engine's own histogram", of: (_, x) => x.engine_latency_p50_ms_1k ?? null },
  latency_p99_ms_1k: { name: "engine's own histogram", of: (_, x) => x.engine_latency_p99_ms_1k ?? null },
  latency_p50_ms_5k: { name: "engine's own histogram", of: (_, x) => x.engine_latency_p50_ms_5k ?? null },
  latency_p99_ms_5k: { name: "engine's own histogram", of: (_, x) => x.engine_latency_p99_ms_5k ?? null },
  latency_p999_ms_5k: { name: "engine's own histogram", of: (_, x) => x.engine_latency_p999_ms_5k ?? null },
  restore_1m_s: { name: 'restart on lmdb plus tail', of: (_, x) => x.restore_1m_checkpoint_s ?? null },
  bytes_per_journey_heap: { name: 'serialised journey', of: (_, x) => x.journey_changelog_bytes ?? null },
  bytes_per_journey_rss: { name: 'serialised journey', of: (_, x) => x.journey_changelog_bytes ?? null },
  sink_rps: { name: 'sink_ceiling_rps', of: (f) => f.sink_ceiling_rps },
};

export interface TableRow {
  figure: FigureName;
  value: number | null;
  ceiling: number | null;
  ceilingName: string;
  ratio: number | null;
  meaning: string;
}

export function tableRows(figures: Figures, extra: Record<string, number | null>): TableRow[] {
  return figureNames.map((figure) => {
    const c = comparedWith[figure];
    const ceiling = c ? c.of(figures, extra) : null;
    const value = figures[figure];
    return {
      figure,
      value,
      ceiling,
      ceilingName: c?.name ?? '',
      ratio: value !== null && ceiling ? Math.round((100 * value) / ceiling) / 100 : null,
      meaning: meaning[figure],
    };
  });
}

interface RunJson {
  run: string;
  mode: string;
  started: string;
  seconds: number;
  machine: { hostname: string; cores: number; cpu: string; memoryBytes: number; loadBefore: number[]; loadAfter: number[] };
  versions: Record<string, string>;
  figures: Figures;
  ceilings: Record<string, number | null>;
  errors: Record<string, string>;
  settings?: { profile?: boolean };
}

const fmt = (x: number | null) => (x === null ? '—' : x >= 1000 ? Math.round(x).toLocaleString('en-US') : String(x));

export function readmeBlock(run: RunJson, file: string): string {
  const m = run.machine;
  const lines = [
    '<!-- bench:begin (generated by `npx tsx scripts/bench/report.ts --readme` from the latest full `npm run bench`; do not edit by hand) -->',
    `Run \`${run.run}\` (${run.mode}${run.settings?.profile ? ', under --profile' : ''}, ${run.seconds} s; JSON: \`${file}\`) on \`${m.hostname}\`: ${m.cores} cores (${m.cpu}),`,
    `${Math.round(m.memoryBytes / 2 ** 30)} GB, shared with other jobs (load average ${m.loadBefore.join(' / ')} before, ${m.loadAfter.join(' / ')} after);`,
    `Node ${run.versions.node}, Kafka ${run.versions.kafka}, ${run.versions.kafkaClient}, chdb ${run.versions.chdb}. Ceilings are measured in the same run;`,
    'ratio = figure ÷ ceiling (or baseline). How each is measured: [docs/bench.md](docs/bench.md). Rerun with `npm run bench`',
    '(≤ 20 min) or `npm run bench -- --quick` (≤ 3 min). Targets are issue #10’s, for the work that follows.',
    '',
    '| Figure | Value | Ceiling or baseline | Ratio | Target | What |',
    '|---|---:|---|---:|---|---|',
    ...tableRows(run.figures, run.ceilings).map(
      (r) =>
        `| \`${r.figure}\` | ${fmt(r.value)} | ${r.ceiling === null ? '—' : `${fmt(r.ceiling)} (${r.ceilingName})`} | ${r.ratio === null ? '—' : r.ratio.toFixed(2)} | ${targets[r.figure] ?? ''} | ${r.meaning} |`,
    ),
  ];
  lines.push(
    '',
    'Read with care: the engine’s own latency histogram counts every decision it commits, timer-driven ones included, while the',
    'end-to-end figures count only decisions triggered by the events the bench produced. The 1M journeys are young (one event',
    'each, copied from the engine’s own changelog record), and the backlog run over them mostly touches young journeys, so',
    '`engine_eps_1m_journeys` is not directly comparable with `engine_eps`, whose 10k journeys are mature.',
  );
  if (Object.keys(run.errors ?? {}).length > 0) lines.push('', `Scenarios that failed in this run: ${Object.keys(run.errors).join(', ')}.`);
  lines.push('<!-- bench:end -->');
  return lines.join('\n');
}

/** Rewrites README's block from a run's JSON. */
export function writeReadme(file: string): void {
  const run = JSON.parse(readFileSync(file, 'utf8')) as RunJson;
  const readme = join(repoRoot, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = text.indexOf('<!-- bench:begin');
  const endMarker = '<!-- bench:end -->';
  const end = text.indexOf(endMarker);
  if (start < 0 || end < start) throw new Error('README.md has no bench:begin … bench:end block');
  writeFileSync(readme, text.slice(0, start) + readmeBlock(run, relative(repoRoot, file)) + text.slice(end + endMarker.length));
}

function newestFullRun(): string {
  const dir = join(repoRoot, 'bench', 'results');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .reverse();
  for (const f of files) {
    const run = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { mode?: string };
    if (run.mode === 'full') return join(dir, f);
  }
  throw new Error(`no full run in ${dir}`);
}

if (require.main === module) {
  const i = process.argv.indexOf('--readme');
  if (i < 0) {
    process.stderr.write('usage: report.ts --readme [FILE]\n');
    process.exit(2);
  }
  const file = process.argv[i + 1] ?? newestFullRun();
  writeReadme(file);
  process.stdout.write(`README block regenerated from ${relative(repoRoot, file)}\n`);
}
