/**
 * diff: the decisions a policy file makes over a range (a shadow fold, nothing written) against the
 * decisions the live engine recorded on the decisions topic for the same triggers. Matched by
 * trigger id (the event id, or the timer/follow-up id): decision ids differ across policy versions.
 * Compared on what a decision says (action, channel, deliver, stage, arm, probability, score, reason
 * codes, candidates), never on decisionTime (the live engine stamps its wall clock).
 */
import type { Decision } from '@nextact/core';
import { gateResults } from '@nextact/engine';
import type { ReplayContext } from './context';
import { policyDomain } from './context';
import { type FoldSummary, foldRange } from './fold-range';
import { type RangeSpec, resolveRange, watermarksOf } from './range';

export interface DiffOptions {
  policyFile: string;
  range: RangeSpec;
  cold?: boolean;
  /** The policy that shaped the state before the range (after a cut-over: the previous version). */
  warmupPolicyFile?: string;
  /** How many changed decisions to show in full (default 5). */
  examples?: number;
  progress?: boolean;
}

export interface DecisionSide {
  decisionId: string;
  actionId: string;
  channel: string;
  deliver: boolean;
  journeyStage: string;
  experimentArm: string;
  probability: number;
  score: number;
  reasonCodes: string[];
  policyVersion: string;
}

export interface DiffExample {
  partition: number;
  customerId: string;
  triggerEventId: string;
  /** Fields that differ. */
  fields: string[];
  live: DecisionSide | null;
  shadow: DecisionSide | null;
}

export interface DiffReport extends FoldSummary {
  policyVersion: string;
  /** Triggers in range that had a decision on either side. */
  compared: number;
  same: number;
  changed: number;
  onlyLive: number;
  onlyShadow: number;
  /** `live action -> shadow action` for changed decisions ("(none)" when one side has none). */
  byAction: Record<string, number>;
  /** Changed decisions by journey stage (the live one's, else the shadow's). */
  byStage: Record<string, number>;
  /** Gates whose result differs: `gate:live result->shadow result`. */
  byGate: Record<string, number>;
  byField: Record<string, number>;
  examples: DiffExample[];
}

const FIELDS = [
  'actionId',
  'channel',
  'deliver',
  'journeyStage',
  'experimentId',
  'experimentArm',
  'probability',
  'score',
  'reasonCodes',
  'candidates',
] as const;

export function differingFields(a: Decision, b: Decision): string[] {
  const out: string[] = [];
  for (const f of FIELDS) if (JSON.stringify(a[f]) !== JSON.stringify(b[f])) out.push(f);
  return out;
}

const side = (d: Decision | undefined): DecisionSide | null =>
  d
    ? {
        decisionId: d.decisionId,
        actionId: d.actionId,
        channel: d.channel,
        deliver: d.deliver,
        journeyStage: d.journeyStage,
        experimentArm: d.experimentArm,
        probability: d.probability,
        score: d.score,
        reasonCodes: d.reasonCodes,
        policyVersion: d.policyVersion,
      }
    : null;

const bump = (m: Record<string, number>, k: string, n = 1) => {
  m[k] = (m[k] ?? 0) + n;
};

const isTimerTrigger = (id: string) => id.startsWith('timer:') || id.startsWith('followup:');

/** The live engine's decisions of one partition, by trigger id. */
async function liveDecisions(ctx: ReplayContext, partition: number): Promise<Map<string, Decision>> {
  const out = new Map<string, Decision>();
  const marks = (await ctx.admin.watermarks(ctx.topics.decisions)).find((m) => m.partition === partition);
  if (!marks || marks.low === marks.high) return out;
  await ctx.kafka.readPartitions(ctx.topics.decisions, [{ partition, from: marks.low, until: marks.high }], async (records) => {
    for (const r of records) {
      const decoded = await ctx.codec.decode(r.value);
      if (decoded.name !== 'nextact.Decision') continue;
      const d = decoded.value as Decision;
      out.set(d.triggerEventId, d);
    }
  });
  return out;
}

export async function runDiff(ctx: ReplayContext, o: DiffOptions): Promise<DiffReport> {
  const { domain, policy } = policyDomain(o.policyFile);
  const topic = ctx.topics.customerEvents;
  await watermarksOf(ctx.admin, ctx.topics.decisions);
  const range = resolveRange(topic, o.range, await watermarksOf(ctx.admin, topic), { warm: !o.cold });
  const maxExamples = o.examples ?? 5;
  const report: Omit<DiffReport, keyof FoldSummary> = {
    policyVersion: policy.version,
    compared: 0,
    same: 0,
    changed: 0,
    onlyLive: 0,
    onlyShadow: 0,
    byAction: {},
    byStage: {},
    byGate: {},
    byField: {},
    examples: [],
  };
  let live = new Map<string, Decision>();
  const matched = new Set<string>();
  let spanStart: number | undefined;
  let spanEnd = 0;
  let current: { streamTime: number } | undefined;

  const compare = (partition: number, liveD: Decision | undefined, shadowD: Decision | undefined) => {
    report.compared++;
    const fields = liveD && shadowD ? differingFields(liveD, shadowD) : [...FIELDS];
    if (fields.length === 0) {
      report.same++;
      return;
    }
    if (!liveD) report.onlyShadow++;
    else if (!shadowD) report.onlyLive++;
    else report.changed++;
    bump(report.byAction, `${liveD?.actionId ?? '(none)'} -> ${shadowD?.actionId ?? '(none)'}`);
    bump(report.byStage, (liveD ?? shadowD)!.journeyStage);
    if (liveD && shadowD) {
      for (const f of fields) bump(report.byField, f);
      const before = new Map(gateResults(liveD.reasonCodes).map((g) => [g.gate, g.result]));
      const after = new Map(gateResults(shadowD.reasonCodes).map((g) => [g.gate, g.result]));
      for (const gate of new Set([...before.keys(), ...after.keys()])) {
        const a = before.get(gate) ?? '-';
        const b = after.get(gate) ?? '-';
        if (a !== b) bump(report.byGate, `${gate}: ${a} -> ${b}`);
      }
    }
    if (report.examples.length < maxExamples) {
      const d = (liveD ?? shadowD)!;
      report.examples.push({ partition, customerId: d.customerId, triggerEventId: d.triggerEventId, fields, live: side(liveD), shadow: side(shadowD) });
    }
  };

  const summary = await foldRange({
    kafka: ctx.kafka,
    codec: ctx.codec,
    logger: ctx.logger,
    range,
    domain,
    warmupDomain: o.warmupPolicyFile ? policyDomain(o.warmupPolicyFile).domain : undefined,
    label: 'diff',
    progress: o.progress === false ? false : undefined,
    hooks: {
      async partitionStart(plan, fold) {
        current = fold;
        live = await liveDecisions(ctx, plan.partition);
        matched.clear();
        spanStart = undefined;
        spanEnd = 0;
      },
      beforeEvent(_plan, _event, _record, inRange) {
        if (inRange && spanStart === undefined) spanStart = current!.streamTime;
      },
      decisions(plan, decisions, event) {
        let own = false;
        for (const d of decisions) {
          if (d.triggerEventId === event.value.eventId) own = true;
          matched.add(d.triggerEventId);
          compare(plan.partition, live.get(d.triggerEventId), d);
        }
        const liveOwn = live.get(event.value.eventId);
        if (!own && liveOwn) {
          matched.add(event.value.eventId);
          compare(plan.partition, liveOwn, undefined);
        }
      },
      partitionEnd(plan, fold) {
        spanEnd = fold.streamTime;
        // Live timer decisions the shadow never made, due within the range's stream-time span.
        if (spanStart !== undefined)
          for (const [trigger, d] of live)
            if (!matched.has(trigger) && isTimerTrigger(trigger) && d.eventTime > spanStart && d.eventTime <= spanEnd) compare(plan.partition, d, undefined);
      },
    },
  });
  return { ...summary, ...report };
}

/** The report as text for a terminal. */
export function renderDiff(r: DiffReport): string {
  const lines = [
    `policy ${r.policyVersion}: ${r.compared} triggers compared, ${r.same} same, ${r.changed} changed, ${r.onlyLive} only live, ${r.onlyShadow} only shadow`,
  ];
  const table = (title: string, m: Record<string, number>) => {
    const rows = Object.entries(m).sort((a, b) => b[1] - a[1]);
    if (rows.length === 0) return;
    lines.push(`${title}:`);
    for (const [k, n] of rows.slice(0, 20)) lines.push(`  ${String(n).padStart(8)}  ${k}`);
  };
  table('by action (live -> shadow)', r.byAction);
  table('by journey stage', r.byStage);
  table('by gate', r.byGate);
  table('by field', r.byField);
  for (const e of r.examples) {
    lines.push(`example: customer ${e.customerId}, trigger ${e.triggerEventId}, differs in ${e.fields.join(', ')}`);
    for (const [name, s] of [
      ['live  ', e.live],
      ['shadow', e.shadow],
    ] as const) {
      if (!s) lines.push(`  ${name} (no decision)`);
      else
        lines.push(
          `  ${name} ${s.actionId} deliver=${s.deliver} p=${s.probability.toFixed(4)} score=${s.score.toFixed(4)} stage=${s.journeyStage} ${s.reasonCodes.join(' ')}`,
        );
    }
  }
  return lines.join('\n');
}
