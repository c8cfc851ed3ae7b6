/**
 * rebuild: journey state rebuilt from the event log into fresh stores (one per partition), from the
 * log start or, cold, from a time on; `verify` compares every journey, the learner and stream time
 * with the live state restored from the engine's changelog, and reports each difference. The read
 * stops at the engine group's committed offsets (read stable), so the two sides describe the same
 * input position; the engine should be stopped or idle for the comparison to be exact.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { engineSettings } from '@nextact/engine';
import type { ReplayContext } from './context';
import { policyDomain } from './context';
import { PartitionFold } from './fold';
import { type FoldSummary, foldRange } from './fold-range';
import { invalid, type RangeSpec, resolveRange, watermarksOf } from './range';

export interface RebuildOptions {
  /** The policy the live engine runs (its journeys depend on its decisions). */
  policyFile: string;
  /** Default: whole partitions. A time range rebuilds cold: only events from `from` on. */
  range?: RangeSpec;
  verify?: boolean;
  /** Engine group whose committed offsets bound the read (default: the engine's, `<prefix>engine`). */
  groupId?: string;
  /** Writes each rebuilt partition as `<dir>/<partition>.json` (the engine's checkpoint format; its offset is the input offset). */
  outDir?: string;
  /** Differences listed per partition at most (default 20); all are counted. */
  maxListed?: number;
  progress?: boolean;
}

export interface StateDifference {
  partition: number;
  key: string;
  kind: 'only-rebuilt' | 'only-live' | 'different';
}

export interface RebuildReport extends FoldSummary {
  journeys: number;
  partitions: { partition: number; until: string; journeys: number; liveJourneys?: number; differences?: number }[];
  verified: boolean;
  differences: number;
  listed: StateDifference[];
}

export async function runRebuild(ctx: ReplayContext, o: RebuildOptions): Promise<RebuildReport> {
  const { domain } = policyDomain(o.policyFile);
  const topic = ctx.topics.customerEvents;
  const spec = o.range ?? { whole: true };
  const cold = spec.time !== undefined;
  const marks = await watermarksOf(ctx.admin, topic);
  const groupId = o.groupId ?? engineSettings(ctx.config).groupId;
  if (o.verify) {
    // Bound the read by what the engine has committed, so both sides stand at one input position.
    const committed = new Map((await ctx.admin.groupOffsets(groupId, topic, { requireStable: true })).map((c) => [c.partition, c.offset]));
    if ([...committed.values()].every((c) => BigInt(c) < 0n)) throw invalid(`--verify: group ${groupId} has committed nothing on ${topic} (pass --group)`);
    for (const m of marks) {
      const c = committed.get(m.partition);
      if (c !== undefined && BigInt(c) >= 0n && BigInt(c) < BigInt(m.high)) m.high = c;
    }
  }
  const range = resolveRange(topic, spec, marks, { warm: !cold });
  const maxListed = o.maxListed ?? 20;
  const report: Omit<RebuildReport, keyof FoldSummary> = { journeys: 0, partitions: [], verified: o.verify ?? false, differences: 0, listed: [] };
  if (o.outDir) mkdirSync(o.outDir, { recursive: true });
  const summary = await foldRange({
    kafka: ctx.kafka,
    codec: ctx.codec,
    logger: ctx.logger,
    range,
    domain,
    label: 'rebuild',
    progress: o.progress === false ? false : undefined,
    hooks: {
      async partitionEnd(plan, fold) {
        const row: RebuildReport['partitions'][number] = { partition: plan.partition, until: plan.until, journeys: fold.journeys };
        report.journeys += fold.journeys;
        if (o.outDir) writeFileSync(join(o.outDir, `${plan.partition}.json`), JSON.stringify(fold.snapshot(topic, plan.partition, plan.until)));
        if (o.verify) {
          const live = new PartitionFold(domain);
          await live.restoreFromChangelog(ctx.kafka, ctx.admin, ctx.codec, ctx.topics.journeyChangelog, plan.partition, ctx.logger);
          row.liveJourneys = live.journeys;
          const diffs = compareContents(plan.partition, fold.contents(), live.contents());
          row.differences = diffs.length;
          report.differences += diffs.length;
          report.listed.push(...diffs.slice(0, maxListed));
        }
        report.partitions.push(row);
      },
    },
  });
  return { ...summary, ...report };
}

export function compareContents(partition: number, rebuilt: Map<string, string>, live: Map<string, string>): StateDifference[] {
  const out: StateDifference[] = [];
  for (const [key, value] of rebuilt) {
    const other = live.get(key);
    if (other === undefined) out.push({ partition, key, kind: 'only-rebuilt' });
    else if (other !== value) out.push({ partition, key, kind: 'different' });
  }
  for (const key of live.keys()) if (!rebuilt.has(key)) out.push({ partition, key, kind: 'only-live' });
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function renderRebuild(r: RebuildReport): string {
  const lines = [`rebuilt ${r.journeys} journeys in ${r.partitions.length} partitions`];
  for (const p of r.partitions)
    lines.push(
      `  partition ${p.partition}: ${p.journeys} journeys up to offset ${p.until}${r.verified ? `; live ${p.liveJourneys}, ${p.differences} differences` : ''}`,
    );
  if (r.verified) {
    lines.push(r.differences === 0 ? 'verify: the rebuilt state equals the live state' : `verify: ${r.differences} differences`);
    for (const d of r.listed) lines.push(`  partition ${d.partition} ${d.kind}: ${d.key}`);
  }
  return lines.join('\n');
}
