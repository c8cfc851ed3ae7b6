/**
 * The next-best-action decision domain: journey state + policy + learner -> decisions.
 * Pure and deterministic (see domain.ts): inputs are never mutated (each step copies the journey's top
 * level and replaces only the nested parts it changes), time is the event time, and the
 * only randomness is the selection draw, taken from the same hash of trigger and policy version as the decision id.
 */
import type { Channel, CustomerEvent, Decision, ExperimentArm } from '@nextact/core';
import type { DecisionDomain, StepResult } from './domain';
import { clvValueMultiplier, pAliveChurnAt } from './futures/policy';
import { futureAt, type ScoredFuture } from './futures/score';
import { modelsSideInput } from './futures/side-input';
import type { ModelTimeline } from './futures/timeline';
import { deserialiseJourney, serialiseJourney } from './journey/codec';
import { decisionFingerprint } from './journey/fingerprint';
import { intern } from './journey/intern';
import { BOUNDS, type FollowUp, initialJourney, type JourneyState, listOrEmpty } from './journey/state';
import { advanceTo, applyEvent, enterStage, isUnhappy, nextTransition, prune, rememberEvent, seenBefore } from './journey/transitions';
import { pick, type ScoringContext, scoreAction, softmax } from './policy/arbitration';
import { deferHoursOf, experimentFor, hashArm } from './policy/experiments';
import { evaluateGates, type GateContext } from './policy/gates';
import { decisionDigest } from './policy/hash';
import { initialLearner, type LearnerState, observe, outcomeSignal } from './policy/learner';
import { deserialiseLearner, serialiseLearner } from './policy/learner-codec';
import { triggerOf } from './policy/triggers';
import { constantsOf } from './spec/derived';
import { type ActionSpec, DO_NOTHING, type Policy, type TriggerKind } from './spec/types';
import { hours } from './spec/units';

export const DECISION_SCHEMA_VERSION = 1;
export const TIMER_TRIGGER_TYPE = 'TIMER';

export function decisionIdFor(triggerEventId: string, policyVersion: string): string {
  return decisionDigest(triggerEventId, policyVersion).decisionId;
}

export function timerEventId(customerId: string, kind: string, at: number): string {
  return `timer:${kind}:${customerId}:${at}`;
}

interface Trigger {
  kind: TriggerKind;
  eventId: string;
  type: string;
  eventTime: number;
}

/** Gates, arbitration, selection and experiment arm for one trigger; records the decision in `j` (a fresh shallow copy). */
export function decide(policy: Policy, j: JourneyState, learner: LearnerState, trigger: Trigger, decisionTime: number, future?: ScoredFuture): Decision {
  const now = trigger.eventTime;
  const constants = constantsOf(policy);
  const { decisionId, draw } = decisionDigest(trigger.eventId, policy.version);
  const { unhappy, candidates, channels, reasons } = assess(policy, j, learner, trigger.kind, now, policy.actions, future);

  const eligible = candidates.filter((c) => c.eligible);
  const probabilities = softmax(
    eligible.map((c) => c.score),
    policy.arbitration.temperature,
  );
  const index = pick(probabilities, draw);
  const chosen = eligible[index]!;
  const channel = channels.get(chosen.actionId) ?? 'NONE';

  const experiment = experimentFor(policy, { trigger: trigger.kind, stage: j.stage, actionId: chosen.actionId, now, lastComplaintAt: j.lastComplaintAt });
  let arm: ExperimentArm = 'NONE';
  let deliver = chosen.actionId !== DO_NOTHING;
  if (experiment) {
    let assigned = j.experiments[experiment.id];
    if (assigned === undefined) {
      assigned = hashArm(experiment.id, j.customerId, experiment.controlShare);
      j.experiments = { ...j.experiments, [experiment.id]: assigned };
    }
    arm = assigned;
    reasons.push(constants.experimentReasons.get(experiment.id)![assigned]);
    if (arm === 'CONTROL') {
      deliver = false;
      const deferHours = deferHoursOf(experiment);
      if (deferHours !== undefined && chosen.actionId !== DO_NOTHING) {
        scheduleFollowUp(j, { at: now + hours(deferHours), actionId: chosen.actionId, experimentId: experiment.id, decisionId });
        reasons.push(`EXPERIMENT_DEFERRED:${experiment.id}:${deferHours}h`);
      }
    }
  }
  reasons.push(constants.actionReasons.get(chosen.actionId)!.selected);
  if (unhappy) reasons.unshift('CONTEXT:UNHAPPY');
  reasons.unshift(constants.triggerReasons[trigger.kind]);
  return record(policy, j, {
    decisionId,
    customerId: j.customerId,
    triggerEventId: trigger.eventId,
    triggerType: trigger.type,
    actionId: chosen.actionId,
    channel,
    deliver,
    journeyStage: j.stage,
    experimentId: experiment?.id ?? null,
    experimentArm: arm,
    probability: probabilities[index]!,
    score: chosen.score,
    candidates,
    reasonCodes: [...new Set(reasons)],
    policyVersion: policy.version,
    eventTime: now,
    decisionTime,
    schemaVersion: DECISION_SCHEMA_VERSION,
    ...futureFields(future),
  });
}

/** What a decision records of the customer's future (null fields: no model in force, or no purchase yet). */
export function futureFields(future: ScoredFuture | undefined): Pick<Decision, 'modelVersion' | 'pAlive' | 'predictedClvMinor'> {
  if (!future) return { modelVersion: null, pAlive: null, predictedClvMinor: null };
  return { modelVersion: future.modelVersion, pAlive: future.pAlive, predictedClvMinor: future.clv };
}

/** Gates and scores for the given actions at one decision point; every gate outcome becomes a reason code. */
function assess(policy: Policy, j: JourneyState, learner: LearnerState, kind: TriggerKind, now: number, actions: readonly ActionSpec[], future?: ScoredFuture) {
  const unhappy = isUnhappy(j, policy, now);
  const fatigueWindow = constantsOf(policy).fatigueWindowMs;
  let recentContacts = 0;
  for (const c of j.contacts) if (now - c.at < fatigueWindow) recentContacts++;
  const gateCtx: GateContext = { policy, journey: j, trigger: kind, now, unhappy };
  const scoreCtx: ScoringContext = {
    policy,
    learner,
    stage: j.stage,
    trigger: kind,
    unhappy,
    recentContacts,
    now,
    valueMultiplier: clvValueMultiplier(policy, future),
  };
  const reasons: string[] = [];
  const channels = new Map<string, Channel>();
  const candidates = actions.map((action) => {
    const gate = evaluateGates(gateCtx, action);
    reasons.push(...gate.reasons);
    if (gate.channel) channels.set(action.id, gate.channel);
    return scoreAction(action, scoreCtx, gate.eligible);
  });
  return { unhappy, candidates, channels, reasons };
}

/** Remembers the decision in the journey; a delivered one also enters the contact history (caps, cooldowns). */
function record(policy: Policy, j: JourneyState, d: Decision): Decision {
  const remembered = {
    id: decisionFingerprint(d.decisionId),
    actionId: d.actionId,
    stage: d.journeyStage,
    at: d.eventTime,
    deliver: d.deliver,
    outcome: null,
    learned: false,
  };
  // A new array of exact length: push would leave spare capacity in every journey.
  j.recentDecisions = [...j.recentDecisions.slice(1 - BOUNDS.recentDecisions), remembered];
  if (d.deliver) {
    const transactional = constantsOf(policy).actionsById.get(d.actionId)?.transactional ?? false;
    j.contacts = [...j.contacts, { at: d.eventTime, channel: intern(d.channel), actionId: d.actionId, transactional }];
    prune(j, policy);
  }
  return d;
}

/** Keeps follow-ups ordered by due time; beyond the bound the latest-due ones are dropped. */
function scheduleFollowUp(j: JourneyState, f: FollowUp): void {
  const due = [...j.followUps, f].sort((a, b) => a.at - b.at || (a.decisionId < b.decisionId ? -1 : a.decisionId > b.decisionId ? 1 : 0));
  j.followUps = due.slice(0, BOUNDS.followUps);
}

/**
 * A deferred action coming due: the same action if its gates pass now (consent, suppression, quiet
 * hours, caps, cooldown, eligibility apart from stage and decision point), otherwise do_nothing. No
 * draw is made, so the logged probability is 1; the arm is the deferring experiment's CONTROL.
 */
export function decideFollowUp(policy: Policy, j: JourneyState, learner: LearnerState, f: FollowUp, decisionTime: number, future?: ScoredFuture): Decision {
  j.followUps = listOrEmpty(j.followUps.filter((x) => x.decisionId !== f.decisionId));
  const triggerEventId = `followup:${f.decisionId}`;
  const { actionsById, doNothing: maybeDoNothing } = constantsOf(policy);
  const action = actionsById.get(f.actionId);
  const doNothing = maybeDoNothing!;
  const considered = action && action.id !== DO_NOTHING ? [action, doNothing] : [doNothing];
  const { unhappy, candidates, channels, reasons } = assess(policy, j, learner, 'FOLLOW_UP', f.at, considered, future);
  if (!action) reasons.push(`FOLLOW_UP_UNKNOWN_ACTION:${f.actionId}`);
  const chosen = candidates.find((c) => c.eligible && c.actionId !== DO_NOTHING) ?? candidates.find((c) => c.actionId === DO_NOTHING)!;
  const arm = j.experiments[f.experimentId] ?? 'CONTROL';
  return record(policy, j, {
    decisionId: decisionIdFor(triggerEventId, policy.version),
    customerId: j.customerId,
    triggerEventId,
    triggerType: TIMER_TRIGGER_TYPE,
    actionId: chosen.actionId,
    channel: channels.get(chosen.actionId) ?? 'NONE',
    deliver: chosen.actionId !== DO_NOTHING,
    journeyStage: j.stage,
    experimentId: f.experimentId,
    experimentArm: arm,
    probability: 1,
    score: chosen.score,
    candidates,
    reasonCodes: [
      ...new Set([
        'TRIGGER:FOLLOW_UP',
        ...(unhappy ? ['CONTEXT:UNHAPPY'] : []),
        `FOLLOW_UP:${f.decisionId}`,
        ...reasons,
        `EXPERIMENT:${f.experimentId}:${arm}`,
        `SELECTED:${chosen.actionId}`,
      ]),
    ],
    policyVersion: policy.version,
    eventTime: f.at,
    decisionTime,
    schemaVersion: DECISION_SCHEMA_VERSION,
    ...futureFields(future),
  });
}

/** Counts an outcome once per decision, in the stage the decision was made in. */
function learn(policy: Policy, j: JourneyState, learner: LearnerState, event: CustomerEvent): LearnerState {
  if (event.name !== 'nextact.ActionOutcome') return learner;
  const o = event.value;
  const signal = outcomeSignal(o.outcome);
  if (signal === undefined) return learner;
  const id = decisionFingerprint(o.decisionId);
  const decision = j.recentDecisions.find((d) => d.id === id);
  if (!decision?.deliver || decision.learned) return learner;
  if (!constantsOf(policy).actionsById.has(decision.actionId)) return learner;
  j.recentDecisions = j.recentDecisions.map((d) => (d === decision ? { ...d, learned: true } : d));
  return observe(learner, decision.actionId, decision.stage, signal, o.eventTime, policy.learning.halfLifeDays);
}

/**
 * Events that leave the customer with no journey: an erasure (a changelog tombstone follows, see
 * docs/security.md), and any event of a marker journey, which erasures left before they deleted
 * (`erasedAt` set). Nothing else: an event of an erased id that comes later (a late outcome, the
 * customer coming back) starts a fresh journey, which honours what it says (an unsubscribe).
 */
function forgets(journey: JourneyState | undefined, event: CustomerEvent): boolean {
  return event.name === 'nextact.ErasureRequest' || journey?.erasedAt != null;
}

export interface NbaDomainOptions {
  /** Customer-futures model versions (filled by the models side input); without it decisions record no future. */
  futures?: ModelTimeline;
}

/** The customer's future at `at` under the model in force then (undefined: no model, or no purchase yet). */
function futureOf(futures: ModelTimeline | undefined, j: JourneyState, at: number): ScoredFuture | undefined {
  return futures && j.purchaseDays ? futureAt(j.purchaseDays, futures.inForceAt(at), at) : undefined;
}

/**
 * P(alive) fell below the policy's threshold at `at` (see futures/policy): CHURN_RISK, and the
 * inactivity decision point at that instant, whose id names the cause (replay-stable like inactivity).
 */
function pAliveChurn(policy: Policy, futures: ModelTimeline | undefined, journey: JourneyState, learner: LearnerState, at: number, decisionTime: number) {
  const j = { ...journey };
  enterStage(j, 'CHURN_RISK', at, 'P_ALIVE');
  if (!policy.triggers.inactivity) return { journey: j, learner };
  const eventId = timerEventId(j.customerId, 'P_ALIVE', at);
  const decision = decide(policy, j, learner, { kind: 'INACTIVITY', eventId, type: TIMER_TRIGGER_TYPE, eventTime: at }, decisionTime, futureOf(futures, j, at));
  return { journey: j, learner, decision };
}

export function createNbaDomain(policy: Policy, options: NbaDomainOptions = {}): DecisionDomain<JourneyState, LearnerState> {
  const { futures } = options;
  return {
    policyVersion: policy.version,
    sideInputs: futures ? [modelsSideInput(futures)] : undefined,
    initialJourney: (customerId) => initialJourney(policy, customerId),
    initialLearner,

    deletesJourney: forgets,

    onEvent(journey, learner, event, decisionTime): StepResult<JourneyState, LearnerState> {
      // deletesJourney takes these first; called anyway (a hand-rolled fold), they change nothing.
      if (forgets(journey, event)) return { journey: journey ?? initialJourney(policy, event.value.customerId), learner };
      const current = journey ?? initialJourney(policy, event.value.customerId);
      if (seenBefore(current, event.value.eventId)) return { journey: current, learner };
      // A shallow copy: nested state is shared with `current` and replaced where the event changes it
      // (copy on write, see journey/transitions), so the caller's journey is never mutated.
      const j = { ...current };
      rememberEvent(j, event.value.eventId, Math.max(current.rfm.lastEventTime ?? event.value.eventTime, event.value.eventTime));
      // Overdue time transitions happen first, silently: the customer is back, so no timer decision.
      advanceTo(j, policy, event.value.eventTime);
      const modelChurn = pAliveChurnAt(policy, futures, j);
      if (modelChurn !== undefined && modelChurn <= event.value.eventTime) enterStage(j, 'CHURN_RISK', modelChurn, 'P_ALIVE');
      applyEvent(j, policy, event);
      const nextLearner = learn(policy, j, learner, event);
      const kind = triggerOf(policy, event);
      if (!kind) return { journey: j, learner: nextLearner };
      const at = event.value.eventTime;
      const trigger = { kind, eventId: event.value.eventId, type: event.name, eventTime: at };
      const decision = decide(policy, j, nextLearner, trigger, decisionTime, futureOf(futures, j, at));
      return { journey: j, learner: nextLearner, decision };
    },

    nextTimer(journey) {
      let next: number | undefined;
      for (const at of [nextTransition(journey, policy)?.at, journey.followUps[0]?.at, pAliveChurnAt(policy, futures, journey)])
        if (at !== undefined && (next === undefined || at < next)) next = at;
      return next;
    },

    onTimer(journey, learner, dueAt, decisionTime): StepResult<JourneyState, LearnerState> {
      const due = nextTransition(journey, policy);
      const followUp = journey.followUps[0];
      const transitionDue = due !== undefined && due.at <= dueAt;
      const followUpDue = followUp !== undefined && followUp.at <= dueAt;
      const modelChurn = pAliveChurnAt(policy, futures, journey);
      if (modelChurn !== undefined && modelChurn <= dueAt && (!transitionDue || modelChurn < due.at) && (!followUpDue || modelChurn <= followUp.at))
        return pAliveChurn(policy, futures, journey, learner, modelChurn, decisionTime);
      if (!transitionDue && !followUpDue) return { journey, learner };
      const j = { ...journey };
      // One thing per call, in time order; at the same instant the stage moves first, then the follow-up.
      if (followUpDue && (!transitionDue || followUp.at < due.at)) {
        const decision = decideFollowUp(policy, j, learner, j.followUps[0]!, decisionTime, futureOf(futures, j, followUp.at));
        return { journey: j, learner, decision };
      }
      const fired = advanceTo(j, policy, followUpDue ? Math.min(dueAt, followUp.at) : dueAt);
      const inactivity = fired.find((t) => t.kind === 'INACTIVITY');
      if (!inactivity || !policy.triggers.inactivity) return { journey: j, learner };
      // The decision happens at the transition's own time, not at whatever stream time noticed it: replay-stable.
      const eventId = timerEventId(j.customerId, inactivity.kind, inactivity.at);
      const decision = decide(
        policy,
        j,
        learner,
        { kind: 'INACTIVITY', eventId, type: TIMER_TRIGGER_TYPE, eventTime: inactivity.at },
        decisionTime,
        futureOf(futures, j, inactivity.at),
      );
      return { journey: j, learner, decision };
    },

    stateSchemas: { journey: 'nextact.Journey', learner: 'nextact.Learner' },
    serialiseJourney,
    deserialiseJourney,
    serialiseLearner,
    deserialiseLearner,
  };
}
