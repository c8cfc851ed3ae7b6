/**
 * `npm run bench [-- --quick] [--profile] [--out FILE] [--scale X] [--only a,b] [--budget SEC]`: every performance
 * figure of NextAct in one run on the local stack (started when it is not running), each beside a
 * ceiling or baseline measured in the same run. Prints a table; writes JSON to
 * bench/results/<timestamp>.json (or --out) with the machine, versions, settings and a flat
 * `figures` object. Scenarios: engine, replay, broker, engine1m (full run only), gateway, sink, engine2.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { errorMessage } from '@nextact/core';
import { brokerCeiling } from './bench/broker';
import { bigStateScenario, engineScenario, twoInstancesScenario } from './bench/engine';
import { gatewayScenario, sinkScenario } from './bench/ingest';
import { type BenchContext, benchLogger, round, sizesFor } from './bench/lib';
import { replayScenario } from './bench/replay';
import { type Figures, figureNames, tableRows } from './bench/report';
import { repoRoot } from './lib/services';

// In run order: the ones the ceilings and the targets need most come first.
const scenarios = ['engine', 'replay', 'broker', 'engine1m', 'gateway', 'sink', 'engine2'] as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      out: { type: 'string' },
      scale: { type: 'string', default: '1' },
      only: { type: 'string' },
      budget: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${readFileSync(__filename, 'utf8').split('*/')[0]}*/\n`);
    return;
  }
  const quick = values.quick ?? false;
  const scale = Number(values.scale);
  if (!(scale > 0)) throw new Error(`--scale must be a positive number, got ${values.scale}`);
  const only = new Set((values.only ?? scenarios.join(',')).split(',').map((s) => s.trim()));
  for (const s of only) if (!(scenarios as readonly string[]).includes(s)) throw new Error(`--only: unknown scenario ${s}; known: ${scenarios.join(', ')}`);

  const started = new Date();
  const runId = started.toISOString().replace(/[:.]/g, '-');
  const runDir = join(repoRoot, 'bench', 'runs', runId);
  mkdirSync(runDir, { recursive: true });
  const say = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
  const ctx: BenchContext = {
    quick,
    sizes: sizesFor(quick, scale),
    partitions: 6,
    runDir,
    profile: values.profile ?? false,
    logger: benchLogger(),
    say,
    details: {},
    profiles: {},
  };

  say(`${quick ? 'quick' : 'full'} run ${runId}; logs in ${relative(repoRoot, runDir)}`);
  execFileSync('bash', [join(repoRoot, 'scripts', 'stack.sh'), 'up'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  const loadBefore = loadavg().map((x) => round(x, 2));

  const figures: Figures = Object.fromEntries(figureNames.map((n) => [n, null])) as Figures;
  const ceilings: Record<string, number | null> = {};
  const errors: Record<string, string> = {};
  // A scenario that would start after the budget is skipped (and named in `errors`): the run
  // reports what fitted rather than overrunning a shared machine.
  const budgetSec = Number(values.budget ?? (quick ? 180 : 1200));
  const attempt = async (name: string, run: () => Promise<void>) => {
    if (!only.has(name)) return;
    const elapsed = (Date.now() - started.getTime()) / 1000;
    if (elapsed > budgetSec * 0.97) {
      errors[name] = `skipped: ${Math.round(elapsed)} s of the ${budgetSec} s budget used before it could start`;
      say(`${name} ${errors[name]}`);
      return;
    }
    const t = performance.now();
    say(`— ${name}`);
    try {
      await run();
    } catch (err) {
      errors[name] = errorMessage(err);
      say(`${name} failed: ${err instanceof Error ? err.stack : String(err)}`);
    }
    ctx.details[`${name}_seconds`] = round((performance.now() - t) / 1000, 1);
  };

  let avroBytes = 0;
  await attempt('engine', async () => {
    const e = await engineScenario(ctx);
    avroBytes = e.avroBytes;
    figures.produce_eps = e.produceEps;
    figures.engine_eps = e.engineEps;
    figures.latency_p50_ms_1k = e.latency1k.p50;
    figures.latency_p99_ms_1k = e.latency1k.p99;
    figures.latency_p50_ms_5k = e.latency5k.p50;
    figures.latency_p99_ms_5k = e.latency5k.p99;
    figures.latency_p999_ms_5k = e.latency5k.p999;
    figures.restore_rps = e.restoreRps;
    figures.bytes_per_journey_heap = e.heapPerJourney;
    figures.bytes_per_journey_rss = e.rssPerJourney;
    ctx.details.latency = { at1k: e.latency1k, at5k: e.latency5k };
    // Baselines: the engine's own histogram over the same windows; a journey's serialised size.
    ceilings.engine_latency_p50_ms_1k = e.latency1k.engineHistogram.p50;
    ceilings.engine_latency_p99_ms_1k = e.latency1k.engineHistogram.p99;
    ceilings.engine_latency_p50_ms_5k = e.latency5k.engineHistogram.p50;
    ceilings.engine_latency_p99_ms_5k = e.latency5k.engineHistogram.p99;
    ceilings.engine_latency_p999_ms_5k = e.latency5k.engineHistogram.p999;
    ceilings.journey_changelog_bytes = e.journeyBytes;
  });
  await attempt('replay', async () => {
    const r = await replayScenario(ctx);
    figures.replay_eps = r.replayEps;
    ctx.details.replay = r;
  });
  await attempt('broker', async () => {
    // Our real record size: the simulator's events as Avro with the registry header (measured above).
    const { at200, atAvro } = await brokerCeiling(ctx, avroBytes || 300);
    figures.broker_produce_rps = at200.produceRps;
    figures.broker_consume_rps = at200.consumeRps;
    ceilings.broker_produce_avro_rps = atAvro.produceRps;
    ceilings.broker_consume_avro_rps = atAvro.consumeRps;
    ceilings.broker_produce_avro_p99_ms = atAvro.produceP99Ms;
    ctx.details.avroEventBytes = avroBytes || null;
  });
  if (!quick) {
    await attempt('engine1m', async () => {
      const b = await bigStateScenario(ctx);
      figures.engine_eps_1m_journeys = b.engineEps;
      figures.restore_1m_s = b.restoreSeconds;
      ceilings.restore_1m_checkpoint_s = b.checkpointRestoreSeconds;
      ceilings.journey_changelog_bytes = b.journeyBytes;
      // At 1M journeys the per-journey figures are the issue's; the 10k ones stay in details.
      ctx.details.bytes_per_journey_10k = { heap: figures.bytes_per_journey_heap, rss: figures.bytes_per_journey_rss };
      ctx.details.restore_rps_small = figures.restore_rps;
      figures.bytes_per_journey_heap = b.heapPerJourney;
      figures.bytes_per_journey_rss = b.rssPerJourney;
      if (b.restoreRps !== null) figures.restore_rps = b.restoreRps;
    });
  }

  await attempt('gateway', async () => {
    const g = await gatewayScenario(ctx);
    figures.gateway_eps = g.eps;
    figures.gateway_p99_ms = g.p99;
  });
  await attempt('sink', async () => {
    const s = await sinkScenario(ctx);
    figures.sink_rps = s.sinkRps;
    figures.sink_ceiling_rps = s.ceilingRps;
  });
  await attempt('engine2', async () => {
    figures.engine_eps_2_instances = await twoInstancesScenario(ctx);
  });
  const finished = new Date();
  const result = {
    run: runId,
    mode: quick ? 'quick' : 'full',
    started: started.toISOString(),
    finished: finished.toISOString(),
    seconds: round((finished.getTime() - started.getTime()) / 1000, 1),
    machine: {
      hostname: hostname(),
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      memoryBytes: totalmem(),
      loadBefore,
      loadAfter: loadavg().map((x) => round(x, 2)),
    },
    versions: versions(),
    settings: { ...ctx.sizes, scale, budgetSec, partitions: ctx.partitions, exactlyOnce: true, profile: ctx.profile, only: [...only] },
    figures,
    ceilings: { ...ceilings, ...ceilingsOf(figures, ceilings) },
    errors,
    details: ctx.details,
    profiles: ctx.profiles,
  };
  const out = values.out ?? join(repoRoot, 'bench', 'results', `${runId}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);

  // Big scratch data goes; logs and profiles stay in the run folder.
  rmSync(join(runDir, 'sink-chdb'), { recursive: true, force: true });
  printTable(figures, ceilings);
  for (const [label, top] of Object.entries(ctx.profiles)) {
    process.stdout.write(`\nTop self time, ${label}:\n`);
    for (const t of top) process.stdout.write(`  ${String(t.pct).padStart(5)}%  ${String(t.selfMs).padStart(7)} ms  ${t.fn}\n`);
  }
  process.stdout.write(
    `\nJSON: ${relative(process.cwd(), out)}   (${result.seconds}s, load ${loadBefore.join('/')} → ${result.machine.loadAfter.join('/')})\n`,
  );
  if (Object.keys(errors).length > 0) {
    process.stdout.write(`Failed scenarios: ${Object.keys(errors).join(', ')}\n`);
    process.exitCode = 1;
  }
}

/** Ceiling values per figure as recorded in the JSON (the table's third column). */
function ceilingsOf(figures: Figures, extra: Record<string, number | null>): Record<string, number | null> {
  const rows = tableRows(figures, extra);
  return Object.fromEntries(rows.filter((r) => r.ceiling !== null).map((r) => [r.figure, r.ceiling]));
}

function printTable(figures: Figures, extra: Record<string, number | null>): void {
  const rows = tableRows(figures, extra).map((r) => [
    r.figure,
    r.value === null ? 'null' : String(r.value),
    r.ceiling === null ? '—' : `${r.ceiling} (${r.ceilingName})`,
    r.ratio === null ? '—' : r.ratio.toFixed(2),
  ]);
  const head = ['figure', 'value', 'ceiling or baseline', 'ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  process.stdout.write(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}

function kafkaClients(): string[] {
  const core = JSON.parse(readFileSync(join(repoRoot, 'services', 'core', 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return Object.keys(core.dependencies ?? {}).filter((name) => /kafka/i.test(name) && !/schema-registry/.test(name));
}

function versions(): Record<string, string> {
  const pkg = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  const stack = readFileSync(join(repoRoot, 'scripts', 'stack.sh'), 'utf8');
  return {
    node: process.version,
    kafka: /^KAFKA_VERSION=(\S+)/m.exec(stack)?.[1] ?? 'unknown',
    // Whichever Kafka client core's adapter depends on (the client layer is being replaced).
    kafkaClient:
      kafkaClients()
        .map((name) => `${name} ${pkg(name)}`)
        .join(', ') || 'unknown',
    chdb: pkg('chdb'),
    schemaRegistry: `apicurio ${/^APICURIO_VERSION=(\S+)/m.exec(stack)?.[1] ?? 'unknown'}`,
  };
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
