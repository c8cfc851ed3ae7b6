/**
 * A decision as a channel team reads it: every reason code spelled out, the score breakdown of
 * every candidate, the experiment arm and what `deliver` means. Shared by the demo's sample and
 * `npm run decisions -- tail`.
 */
import type { Decision } from '../../services/core/src';

/** What each reason code means (prefix before the first ':'; the rest names the action, channel or experiment). */
const reasonMeanings: Record<string, (args: string[]) => string> = {
  TRIGGER: ([t]) => `triggered by ${t}`,
  STAGE: ([s]) => `journey stage ${s}`,
  CONTEXT: ([c]) => `customer context ${c} (e.g. a complaint or a negative chat): it changes the actions' context weights`,
  ELIGIBLE: ([a, c]) => `${a} could be sent via ${c}: every gate passed`,
  INELIGIBLE: ([a, ...why]) => `${a} not allowed here (${why.join(':')})`,
  GATE_CONSENT_FAILED: ([c]) => `no consent for ${c}`,
  GATE_QUIET_HOURS: ([c]) => `${c} blocked: quiet hours in the customer's time zone`,
  GATE_CAP_CHANNEL: ([c]) => `${c} blocked: contact cap for the channel reached`,
  GATE_CAP_GLOBAL: () => 'blocked: global contact cap reached',
  GATE_COOLDOWN: ([a]) => `${a} blocked: sent too recently (cooldown)`,
  GATE_SUPPRESSED: ([what]) => (what === 'MARKETING' ? 'marketing suppressed (e.g. after a complaint or unsubscribe)' : `${what} suppressed for this customer`),
  GATE_PENDING: ([a]) => `${a} blocked: a deferred follow-up of it is still pending`,
  GATE_CHANNEL_UNAVAILABLE: ([c]) => `${c} unavailable for this trigger (live channel)`,
  GATE_FREQUENCY_PASSED: () => 'frequency caps passed',
  EXPERIMENT: ([id, arm]) => `experiment ${id}: customer is in ${arm}`,
  EXPERIMENT_DEFERRED: ([id, h]) => `experiment ${id}: CONTROL gets this action ${h} later, as a FOLLOW_UP decision`,
  FOLLOW_UP: (args) => `follow-up of an earlier deferred decision (${args.join(':')})`,
  FOLLOW_UP_UNKNOWN_ACTION: ([a]) => `follow-up for ${a}, which the current policy no longer has`,
  SELECTED: ([a]) => `chosen: ${a}`,
};

export function explainReason(code: string): string {
  const [prefix = '', ...args] = code.split(':');
  const meaning = reasonMeanings[prefix];
  return meaning ? meaning(args) : code;
}

export function explainArm(d: Pick<Decision, 'experimentArm' | 'experimentId' | 'reasonCodes'>): string {
  if (d.experimentArm === 'NONE') return 'arm NONE: no experiment covers this action for this customer; the policy acts as it chose';
  const deferred = d.reasonCodes.find((c) => c.startsWith('EXPERIMENT_DEFERRED:'));
  if (d.experimentArm === 'CONTROL')
    return deferred
      ? `arm CONTROL of ${d.experimentId}: the action is deferred (${deferred.split(':')[2] ?? ''}) and comes back as a FOLLOW_UP decision`
      : `arm CONTROL of ${d.experimentId}: held out, logged so uplift can be measured against it, nothing is sent`;
  return `arm TREATMENT of ${d.experimentId}: the action is delivered as the policy chose`;
}

export function explainDeliver(d: Pick<Decision, 'deliver' | 'actionId' | 'experimentArm'>): string {
  if (d.deliver) return 'deliver=true: the channel system should act (use decisionId as the idempotency key)';
  if (d.actionId === 'do_nothing') return 'deliver=false: "do nothing" was the best action; do not contact the customer';
  if (d.experimentArm === 'CONTROL') return 'deliver=false: control arm (recorded for measurement); do not contact the customer';
  return 'deliver=false: do not contact the customer';
}

const fixed = (v: number, digits = 3): string => (Number.isInteger(v) ? String(v) : v.toFixed(digits));

/** The full multi-line view of one decision. */
export function describeDecision(d: Decision, where?: { partition: number; offset: string }): string {
  const lines = [
    `${d.customerId}  ${d.journeyStage} → ${d.actionId} via ${d.channel}  deliver=${d.deliver}  p=${d.probability.toFixed(3)}  score ${d.score.toFixed(3)}`,
    `  decision ${d.decisionId}${where ? ` (partition ${where.partition}, offset ${where.offset})` : ''}, policy ${d.policyVersion}`,
    `  trigger ${d.triggerType} ${d.triggerEventId} at ${new Date(d.eventTime).toISOString()} (event time); decided ${new Date(d.decisionTime).toISOString()}`,
    `  ${explainArm(d)}`,
    `  ${explainDeliver(d)}`,
    '  candidates (score = propensity × value × context × lever + benefit):',
  ];
  for (const c of [...d.candidates].sort((a, b) => b.score - a.score)) {
    lines.push(
      `    ${c.actionId === d.actionId ? '*' : ' '} ${c.actionId.padEnd(22)} ${c.eligible ? 'eligible  ' : 'ineligible'} ${fixed(c.score).padStart(8)} = ${fixed(c.propensity)} × ${fixed(c.value)} × ${fixed(c.contextWeight)} × ${fixed(c.lever)} + ${fixed(c.benefit)}`,
    );
  }
  lines.push('  reasons:');
  for (const code of d.reasonCodes) lines.push(`    ${code.padEnd(44)} ${explainReason(code)}`);
  return lines.join('\n');
}
