/**
 * The next-best-action decision domain: journey state + policy + learner -> decisions.
 * Pure and deterministic (see domain.ts): inputs are never mutated, time is the event time, and the
 * only randomness is a hash of the decision id, which is itself a hash of the trigger and policy version.
 */
import type { Channel, CustomerEvent, Decision, ExperimentArm } from '@nextact/core';
import type { DecisionDomain, StepResult } from './domain';
import { BOUNDS, cloneJourney, deserialiseJourney, initialJourney, type JourneyState, pushBounded, serialiseJourney } from './journey/state';
import { advanceTo, applyEvent, isUnhappy, nextTransition, prune, rememberEvent } from './journey/transitions';
import { pick, type ScoringContext, scoreAction, softmax } from './policy/arbitration';
import { experimentFor, hashArm } from './policy/experiments';
import { evaluateGates, type GateContext } from './policy/gates';
import { sha256Hex, uniformFromSeed } from './policy/hash';
import { deserialiseLearner, initialLearner, type LearnerState, observe, outcomeSignal, serialiseLearner } from './policy/learner';
import { triggerOf } from './policy/triggers';
import { DO_NOTHING, type Policy, type TriggerKind } from './policy/types';
import { days } from './policy/units';

export const DECISION_SCHEMA_VERSION = 1;
export const TIMER_TRIGGER_TYPE = 'TIMER';

export function decisionIdFor(triggerEventId: string, policyVersion: string): string {
  return sha256Hex(`${triggerEventId}|${policyVersion}`).slice(0, 32);
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

/** Gates, arbitration, selection and experiment arm for one trigger; records the decision in the (cloned) journey. */
export function decide(policy: Policy, j: JourneyState, learner: LearnerState, trigger: Trigger, decisionTime: number): Decision {
  const now = trigger.eventTime;
  const decisionId = decisionIdFor(trigger.eventId, policy.version);
  const unhappy = isUnhappy(j, policy, now);
  const fatigueWindow = days(policy.contactPolicy.fatigueWindowDays);
  const recentContacts = j.contacts.filter((c) => now - c.at < fatigueWindow).length;
  const gateCtx: GateContext = { policy, journey: j, trigger: trigger.kind, now, unhappy };
  const scoreCtx: ScoringContext = { policy, learner, stage: j.stage, trigger: trigger.kind, unhappy, recentContacts };

  const reasons = [`TRIGGER:${trigger.kind}`];
  if (unhappy) reasons.push('CONTEXT:UNHAPPY');
  const channels = new Map<string, Channel>();
  const candidates = policy.actions.map((action) => {
    const gate = evaluateGates(gateCtx, action);
    reasons.push(...gate.reasons);
    if (gate.channel) channels.set(action.id, gate.channel);
    return scoreAction(action, scoreCtx, gate.eligible);
  });

  const eligible = candidates.filter((c) => c.eligible);
  const probabilities = softmax(
    eligible.map((c) => c.score),
    policy.arbitration.temperature,
  );
  const index = pick(probabilities, uniformFromSeed(`select:${decisionId}`));
  const chosen = eligible[index]!;
  const channel = channels.get(chosen.actionId) ?? 'NONE';

  const experiment = experimentFor(policy, trigger.kind, j.stage);
  let arm: ExperimentArm = 'NONE';
  if (experiment) {
    const assigned = j.experiments[experiment.id] ?? hashArm(experiment.id, j.customerId, experiment.controlShare);
    j.experiments[experiment.id] = assigned;
    arm = assigned;
    reasons.push(`EXPERIMENT:${experiment.id}:${arm}`);
  }
  reasons.push(`SELECTED:${chosen.actionId}`);
  const deliver = chosen.actionId !== DO_NOTHING && arm !== 'CONTROL';

  pushBounded(
    j.recentDecisions,
    { decisionId, actionId: chosen.actionId, channel, stage: j.stage, at: now, deliver, outcome: null, learned: false },
    BOUNDS.recentDecisions,
  );
  if (deliver) {
    const transactional = policy.actions.find((a) => a.id === chosen.actionId)?.transactional ?? false;
    j.contacts.push({ at: now, channel, actionId: chosen.actionId, transactional });
    prune(j, policy);
  }

  return {
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
  };
}

/** Counts an outcome once per decision, in the stage the decision was made in. */
function learn(policy: Policy, j: JourneyState, learner: LearnerState, event: CustomerEvent): LearnerState {
  if (event.name !== 'nextact.ActionOutcome') return learner;
  const o = event.value;
  const signal = outcomeSignal(o.outcome);
  if (signal === undefined) return learner;
  const decision = j.recentDecisions.find((d) => d.decisionId === o.decisionId);
  if (!decision?.deliver || decision.learned) return learner;
  if (!policy.actions.some((a) => a.id === decision.actionId)) return learner;
  decision.learned = true;
  return observe(learner, decision.actionId, decision.stage, signal);
}

export function createNbaDomain(policy: Policy): DecisionDomain<JourneyState, LearnerState> {
  return {
    policyVersion: policy.version,
    initialJourney: (customerId) => initialJourney(policy, customerId),
    initialLearner,

    onEvent(journey, learner, event, decisionTime): StepResult<JourneyState, LearnerState> {
      const current = journey ?? initialJourney(policy, event.value.customerId);
      if (current.recentEventIds.includes(event.value.eventId)) return { journey: current, learner };
      const j = cloneJourney(current);
      rememberEvent(j, event.value.eventId);
      // Overdue time transitions happen first, silently: the customer is back, so no timer decision.
      advanceTo(j, policy, event.value.eventTime);
      applyEvent(j, policy, event);
      const nextLearner = learn(policy, j, learner, event);
      const kind = triggerOf(policy, event);
      if (!kind) return { journey: j, learner: nextLearner };
      const decision = decide(policy, j, nextLearner, { kind, eventId: event.value.eventId, type: event.name, eventTime: event.value.eventTime }, decisionTime);
      return { journey: j, learner: nextLearner, decision };
    },

    nextTimer(journey) {
      return nextTransition(journey, policy)?.at;
    },

    onTimer(journey, learner, dueAt, decisionTime): StepResult<JourneyState, LearnerState> {
      const due = nextTransition(journey, policy);
      if (!due || due.at > dueAt) return { journey, learner };
      const j = cloneJourney(journey);
      const fired = advanceTo(j, policy, dueAt);
      const inactivity = fired.find((t) => t.kind === 'INACTIVITY');
      if (!inactivity || !policy.triggers.inactivity) return { journey: j, learner };
      // The decision happens at the transition's own time, not at whatever stream time noticed it: replay-stable.
      const eventId = timerEventId(j.customerId, inactivity.kind, inactivity.at);
      const decision = decide(policy, j, learner, { kind: 'INACTIVITY', eventId, type: TIMER_TRIGGER_TYPE, eventTime: inactivity.at }, decisionTime);
      return { journey: j, learner, decision };
    },

    serialiseJourney,
    deserialiseJourney,
    serialiseLearner,
    deserialiseLearner,
  };
}
