/**
 * shadow: a range of the customer-events topic through a policy file, in isolation. It joins no
 * consumer group (groupless reads: no live offsets are read or written), writes no live topic and
 * touches no engine store; its output is its own file or shadow topic. Decision time comes from the
 * triggering record's timestamp, so the same range and policy give byte-identical output.
 */
import { join } from 'node:path';
import type { Decision } from '@nextact/core';
import type { ReplayContext } from './context';
import { digestOf, policyDomain } from './context';
import { type FoldPosition, type FoldSummary, foldRange } from './fold-range';
import { AvroFileOutput, type DecisionOutput, JsonLinesOutput, type OutputFormat, type OutputPosition, TopicOutput } from './output';
import { clearProgress, Interrupt, readProgress, writeProgress } from './progress';
import { type RangeSpec, type ResolvedRange, resolveRange, watermarksOf } from './range';

export type ShadowOutputSpec = { file: string; format: OutputFormat } | { topic: true };

export interface ShadowOptions {
  policyFile: string;
  range: RangeSpec;
  output: ShadowOutputSpec;
  /** Start from an empty state at the range start instead of the state the engine had there. */
  cold?: boolean;
  /** Run name (shadow topic suffix, progress file name); default: a digest of the run's arguments. */
  run?: string;
  /** Default `.replay/shadow-<run>.progress.json` in the working directory. */
  progressFile?: string;
  /** Ignore a saved position and start over. */
  restart?: boolean;
  checkpointEveryMs?: number;
  progress?: boolean;
  /** Stop and save at the next checkpoint when true (tests); SIGINT/SIGTERM does the same. */
  interrupt?: Interrupt;
  /** Extra per-decision observer (diff, evaluate). */
  onDecisions?: (partition: number, decisions: Decision[]) => void;
}

export interface ShadowResult extends FoldSummary {
  run: string;
  output: string;
  policyVersion: string;
  range: ResolvedRange;
  resumed: boolean;
}

interface ShadowPosition {
  range: ResolvedRange;
  fold: FoldPosition;
  output: OutputPosition;
}

export const shadowTopicName = (prefix: string, run: string): string => `${prefix}shadow-decisions-${run}`;

export async function runShadow(ctx: ReplayContext, o: ShadowOptions): Promise<ShadowResult> {
  const { domain, digest, policy } = policyDomain(o.policyFile);
  const topic = ctx.topics.customerEvents;
  // What the output's bytes depend on; the run's identity adds where they go.
  const content = digestOf({ topic, range: o.range, cold: o.cold ?? false, policy: digest });
  const identity = digestOf({ content, output: o.output });
  const run = o.run ?? identity.slice(0, 10);
  if (!/^[A-Za-z0-9._-]{1,80}$/.test(run)) throw new Error(`--run ${run}: use letters, digits, . _ - (it names a topic and a file)`);
  const progressFile = o.progressFile ?? join('.replay', `shadow-${run}.progress.json`);
  if (o.restart) clearProgress(progressFile);
  const saved = readProgress<ShadowPosition>(progressFile, 'shadow', identity);
  // A resumed run keeps the range it resolved at its start (an open end does not move on).
  const range = saved?.range ?? resolveRange(topic, o.range, await watermarksOf(ctx.admin, topic), { warm: !o.cold });

  let output: DecisionOutput;
  if ('topic' in o.output) {
    output = new TopicOutput(ctx.kafka, ctx.admin, ctx.codec, shadowTopicName(ctx.config.topicPrefix, run), (await ctx.admin.watermarks(topic)).length);
  } else {
    output = o.output.format === 'avro' ? new AvroFileOutput(o.output.file, content) : new JsonLinesOutput(o.output.file);
  }
  await output.open(saved?.output);
  let outputPosition: OutputPosition | undefined = saved?.output;
  const interrupt = o.interrupt ?? new Interrupt().listen();
  try {
    const summary = await foldRange({
      kafka: ctx.kafka,
      codec: ctx.codec,
      logger: ctx.logger,
      range,
      domain,
      label: `shadow ${run}`,
      resume: saved?.fold,
      snapshotFile: `${progressFile}.snapshot`,
      checkpointEveryMs: o.checkpointEveryMs,
      interrupt,
      progress: o.progress === false ? false : undefined,
      hooks: {
        async decisions(plan, decisions) {
          for (const d of decisions) await output.write(plan.partition, d);
          o.onDecisions?.(plan.partition, decisions);
        },
        async flush() {
          outputPosition = await output.flush();
        },
        save(fold) {
          writeProgress<ShadowPosition>(progressFile, 'shadow', identity, { range, fold, output: outputPosition! });
        },
      },
    });
    await output.close();
    clearProgress(progressFile);
    return { ...summary, run, output: output.description, policyVersion: policy.version, range, resumed: saved !== undefined };
  } catch (err) {
    // What lands after the saved position is cut back (file) or skipped (topic) on resume.
    await output.close().catch(() => {});
    throw err;
  } finally {
    if (!o.interrupt) interrupt.close();
  }
}
