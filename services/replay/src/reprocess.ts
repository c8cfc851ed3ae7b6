/**
 * reprocess: switching live decisions to a new policy version with nothing lost or doubled.
 *
 * The engine's exactly-once transactions make the committed offsets of its group an exact cut:
 * every trigger below them was decided (once) by the running version, none at or above. So the
 * cut-over is: stop the engine (its last transaction commits), read that cut, start the engine with
 * the new POLICY_FILE under the same group; it restores the journeys from the changelog and goes on
 * at the cut. This command checks the preconditions and reports the cut; with a `--from-time` it also
 * shows (as a diff against the live decisions) what the new version decides differently since then.
 *
 * Why not a new consumer group: the journey changelog is named after the topic prefix, not the
 * group, so a second group would write into the live engine's changelog. Running the new version
 * side by side under its own group needs a changelog per group (the store layer's work); until
 * then, shadow + diff are the side-by-side run, and this cut-over is the switch.
 */
import { engineSettings } from '@nextact/engine';
import type { ReplayContext } from './context';
import { policyDomain } from './context';
import { type DiffReport, runDiff } from './diff';
import { invalid, watermarksOf } from './range';

export interface ReprocessOptions {
  /** The new policy version. */
  policyFile: string;
  /** Show what the new version changes over events from this time on (a diff), up to the cut. */
  fromTime?: number;
  groupId?: string;
  progress?: boolean;
}

export interface ReprocessPlan {
  groupId: string;
  newPolicyVersion: string;
  /** The cut per partition: the new version decides every trigger at or after these offsets. */
  cut: { partition: number; offset: string; endOffset: string }[];
  /** Records not yet decided by the stopped engine (end offsets minus the cut). */
  backlog: number;
  diff?: DiffReport;
  steps: string[];
}

export async function planReprocess(ctx: ReplayContext, o: ReprocessOptions): Promise<ReprocessPlan> {
  const { policy } = policyDomain(o.policyFile);
  const groupId = o.groupId ?? engineSettings(ctx.config).groupId;
  const topic = ctx.topics.customerEvents;
  const marks = await watermarksOf(ctx.admin, topic);
  const group = await ctx.admin.describeGroup(groupId);
  if (group.members.length > 0)
    throw invalid(
      `group ${groupId} has ${group.members.length} active member(s) (${group.state}): stop the engine first, so that its committed offsets are a final cut`,
    );
  // Stable: no open transaction of the stopped engine still holds offsets.
  const committed = new Map((await ctx.admin.groupOffsets(groupId, topic, { requireStable: true })).map((c) => [c.partition, c.offset]));
  if ([...committed.values()].every((c) => BigInt(c) < 0n)) throw invalid(`group ${groupId} has committed nothing on ${topic}: is --group the engine's group?`);
  const cut = marks.map((m) => {
    const c = committed.get(m.partition);
    return { partition: m.partition, offset: c !== undefined && BigInt(c) >= 0n ? c : m.low, endOffset: m.high };
  });
  const backlog = cut.reduce((n, c) => n + Number(BigInt(c.endOffset) - BigInt(c.offset)), 0);
  let diff: DiffReport | undefined;
  if (o.fromTime !== undefined) {
    // Events from fromTime on, below the cut: where the new version would have decided otherwise.
    diff = await runDiff(ctx, {
      policyFile: o.policyFile,
      range: {
        offsets: cut.filter((c) => BigInt(c.offset) > 0n).map((c) => ({ partition: c.partition, until: c.offset })),
        time: { from: o.fromTime, until: Number.MAX_SAFE_INTEGER },
      },
      progress: o.progress,
    });
  }
  const steps = [
    `1. The engine is stopped: group ${groupId} has no member and its offsets are final (done).`,
    `2. Start the engine with POLICY_FILE=${o.policyFile} (version ${policy.version}) and the same ENGINE_GROUP_ID=${groupId}.`,
    `3. It restores the journeys from the changelog and decides every trigger from the cut on: ${cut.map((c) => `${c.partition}@${c.offset}`).join(', ')}.`,
    '4. Triggers below the cut keep the previous version’s decisions; decision ids carry the version, so downstream dedupe by decisionId stays exact.',
    `5. Check: npm run replay -- diff --policy ${o.policyFile} --offsets ${cut.map((c) => `${c.partition}:${c.offset}-`).join(',')} once it caught up (0 changed).`,
  ];
  return { groupId, newPolicyVersion: policy.version, cut, backlog, diff, steps };
}
