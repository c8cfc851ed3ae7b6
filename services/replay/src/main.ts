/**
 * `npm run replay -- <command> [options]`: replay for data engineers. Every command is bounded by a
 * range, shows progress (a bar on a terminal, lines otherwise), prints its throughput at the end
 * and refuses unclear input with what to fix.
 *
 * RANGE: --offsets P:FROM-UNTIL,... (UNTIL exclusive, empty = the end now) and/or --from-time T --until-time T
 * (event time, ISO-8601 or epoch ms), or --all; --partitions 0,1 restricts it. Commands:
 *
 *   shadow    --policy FILE RANGE [--partitions 0,1]
 *             (--out FILE [--format jsonl|avro] | --topic) [--run NAME] [--cold] [--restart] [--progress-file F]
 *   diff      --policy FILE RANGE [--warmup-policy OLD] [--examples N] [--json]
 *   reprocess --policy NEW [--from-time T] [--group G] [--json]   (cut-over check and plan; see docs/replay.md)
 *   backfill  --topic-name events|decisions RANGE [--restart] [--progress-file F] [--json]
 *   evaluate  --policy CANDIDATE [--logged-policy FILE] [RANGE] [--window-hours 72] [--json]
 *   rebuild   [RANGE] [--verify [--group G]] [--policy FILE] [--out DIR] [--json]   (exit 3 when --verify finds differences)
 *
 * Common: --prefix P (NEXTACT_TOPIC_PREFIX), KAFKA_BROKERS, SCHEMA_REGISTRY_URL, CLICKHOUSE_* as the services read them.
 * Interrupt with Ctrl-C: the position is saved and the same command resumes it (shadow, backfill).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { errorMessage, NextActError } from '@nextact/core';
import { engineSettings } from '@nextact/engine';
import { type BackfillSource, backfillLine, runBackfill } from './backfill';
import { openContext, type ReplayContext } from './context';
import { renderDiff, runDiff } from './diff';
import { renderEvaluate, runEvaluate } from './evaluate';
import type { FoldSummary } from './fold-range';
import { fmtRate, Interrupted } from './progress';
import { invalid, parseOffsets, parsePartitions, parseTime, type RangeSpec } from './range';
import { renderRebuild, runRebuild } from './rebuild';
import { planReprocess } from './reprocess';
import { runShadow } from './shadow';

const options = {
  policy: { type: 'string' },
  'logged-policy': { type: 'string' },
  'warmup-policy': { type: 'string' },
  offsets: { type: 'string' },
  'from-time': { type: 'string' },
  'until-time': { type: 'string' },
  partitions: { type: 'string' },
  all: { type: 'boolean' },
  out: { type: 'string' },
  format: { type: 'string' },
  topic: { type: 'boolean' },
  'topic-name': { type: 'string' },
  run: { type: 'string' },
  cold: { type: 'boolean' },
  restart: { type: 'boolean' },
  'progress-file': { type: 'string' },
  examples: { type: 'string' },
  'window-hours': { type: 'string' },
  verify: { type: 'boolean' },
  group: { type: 'string' },
  prefix: { type: 'string' },
  json: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

export function rangeOf(v: Values): RangeSpec {
  const spec: RangeSpec = {};
  if (v.offsets) spec.offsets = parseOffsets(v.offsets);
  if (v['from-time'] || v['until-time']) {
    if (!v['from-time'] || !v['until-time']) throw invalid('a time range needs both --from-time and --until-time');
    spec.time = { from: parseTime(v['from-time'], '--from-time'), until: parseTime(v['until-time'], '--until-time') };
  }
  if (v.all) spec.whole = true;
  if (v.partitions) spec.partitions = parsePartitions(v.partitions);
  return spec;
}

const need = (v: string | undefined, flag: string, what: string): string => {
  if (!v) throw invalid(`${flag} is required: ${what}`);
  return v;
};

export function throughputLine(command: string, s: FoldSummary): string {
  return `${command}: ${s.recordsRead} records read (${s.eventsInRange} events in range, ${s.decisions} decisions) in ${s.seconds.toFixed(1)} s: ${fmtRate(s.eventsPerSec)}`;
}

async function run(command: string, v: Values, ctx: ReplayContext): Promise<unknown> {
  const progress = !v['no-progress'];
  switch (command) {
    case 'shadow': {
      const policyFile = need(v.policy, '--policy', 'the policy file to run the range through');
      const format = (v.format ?? (v.out?.endsWith('.avro') ? 'avro' : 'jsonl')) as 'jsonl' | 'avro';
      if (format !== 'jsonl' && format !== 'avro') throw invalid(`--format ${v.format}: use jsonl or avro`);
      if (!v.out === !v.topic) throw invalid('shadow needs exactly one output: --out FILE (JSON Lines or Avro) or --topic (a shadow topic of its own)');
      const r = await runShadow(ctx, {
        policyFile,
        range: rangeOf(v),
        output: v.topic ? { topic: true } : { file: v.out!, format },
        cold: v.cold,
        run: v.run,
        restart: v.restart,
        progressFile: v['progress-file'],
        progress,
      });
      process.stderr.write(`${throughputLine('shadow', r)}; output ${r.output}${r.resumed ? ' (resumed)' : ''}\n`);
      return r;
    }
    case 'diff': {
      const r = await runDiff(ctx, {
        policyFile: need(v.policy, '--policy', 'the policy file to compare with the live decisions'),
        range: rangeOf(v),
        cold: v.cold,
        warmupPolicyFile: v['warmup-policy'],
        examples: v.examples ? Number(v.examples) : undefined,
        progress,
      });
      if (!v.json) process.stdout.write(`${renderDiff(r)}\n`);
      process.stderr.write(`${throughputLine('diff', r)}\n`);
      return r;
    }
    case 'backfill': {
      const r = await runBackfill(ctx, {
        source: need(v['topic-name'], '--topic-name', 'events (customer-events) or decisions') as BackfillSource,
        range: rangeOf(v),
        restart: v.restart,
        progressFile: v['progress-file'],
        progress,
      });
      process.stderr.write(`${backfillLine(r)}${r.resumed ? ' (resumed)' : ''}\n`);
      return r;
    }
    case 'evaluate': {
      const spec = rangeOf(v);
      const r = await runEvaluate(ctx, {
        policyFile: need(v.policy, '--policy', 'the candidate policy file to evaluate'),
        loggedPolicyFile: v['logged-policy'] ?? engineSettings(ctx.config).policyFile,
        range: spec.offsets || spec.time || spec.whole ? spec : undefined,
        windowHours: v['window-hours'] ? Number(v['window-hours']) : undefined,
        progress,
      });
      if (!v.json) process.stdout.write(`${renderEvaluate(r)}\n`);
      process.stderr.write(`${throughputLine('evaluate', r)}\n`);
      return r;
    }
    case 'rebuild': {
      const spec = rangeOf(v);
      const r = await runRebuild(ctx, {
        policyFile: v.policy ?? engineSettings(ctx.config).policyFile,
        range: spec.offsets || spec.time || spec.whole ? spec : undefined,
        verify: v.verify,
        groupId: v.group,
        outDir: v.out,
        progress,
      });
      if (!v.json) process.stdout.write(`${renderRebuild(r)}\n`);
      process.stderr.write(`${throughputLine('rebuild', r)}\n`);
      if (r.verified && r.differences > 0) process.exitCode = 3;
      return r;
    }
    case 'reprocess': {
      const r = await planReprocess(ctx, {
        policyFile: need(v.policy, '--policy', 'the new policy version to switch to'),
        fromTime: v['from-time'] ? parseTime(v['from-time'], '--from-time') : undefined,
        groupId: v.group,
        progress,
      });
      if (!v.json) {
        if (r.diff) process.stdout.write(`what ${r.newPolicyVersion} changes since --from-time, up to the cut:\n${renderDiff(r.diff)}\n\n`);
        process.stdout.write(`cut-over of ${r.groupId} to ${r.newPolicyVersion} (${r.backlog} records not yet decided):\n${r.steps.join('\n')}\n`);
      }
      return r;
    }
    default:
      throw invalid(`unknown command ${JSON.stringify(command)}: use shadow, diff, backfill, evaluate, rebuild or reprocess (--help)`);
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  if (values.help || positionals.length === 0) {
    const doc = readFileSync(__filename, 'utf8').split('*/')[0]!.replace('/**', '');
    process.stdout.write(
      `${doc
        .split('\n')
        .map((l) => l.replace(/^ \* ?/, ''))
        .join('\n')
        .trim()}\n`,
    );
    return positionals.length === 0 && !values.help ? 2 : 0;
  }
  const ctx = await openContext({ prefix: values.prefix });
  try {
    const result = await run(positionals[0]!, values, ctx);
    if (values.json) process.stdout.write(`${JSON.stringify(result, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2)}\n`);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } finally {
    await ctx.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      if (err instanceof Interrupted) {
        process.stderr.write('interrupted: progress saved; run the same command again to resume\n');
        process.exit(130);
      }
      const code = err instanceof NextActError ? `${err.code}: ` : '';
      process.stderr.write(`replay: ${code}${errorMessage(err)}\n`);
      process.exit(err instanceof NextActError && !err.retriable ? 2 : 1);
    },
  );
}
