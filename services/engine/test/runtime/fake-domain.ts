/**
 * A small deterministic domain for runtime tests: a counter journey that decides on every event,
 * an inactivity timer 60 s (event time) after the last event, and a per-partition learner whose
 * count feeds every decision — so decisions depend on the exact order of the partition.
 */
import type { CustomerEvent, Decision } from '@nextact/core';
import type { DecisionDomain, StepResult } from '../../src/domain';

export interface CounterJourney {
  customerId: string;
  events: number;
  lastEventTime: number;
  digest: number;
  timerArmed: boolean;
  timersFired: number;
}

export interface CounterLearner {
  steps: number;
}

export const INACTIVITY_MS = 60_000;
const ACTIONS = ['offer-a', 'offer-b', 'do-nothing'] as const;

/** FNV-1a over a string, chained: the journey remembers the exact sequence it saw. */
function fnv(seed: number, text: string): number {
  let h = seed >>> 0 || 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function decision(j: CounterJourney, l: CounterLearner, trigger: { id: string; type: string; time: number }, decisionTime: number): Decision {
  const actionId = trigger.type === 'TIMER' ? 'winback' : ACTIONS[j.events % ACTIONS.length]!;
  return {
    decisionId: `d-${trigger.id}`,
    customerId: j.customerId,
    triggerEventId: trigger.id,
    triggerType: trigger.type,
    actionId,
    channel: actionId === 'do-nothing' ? 'NONE' : 'EMAIL',
    deliver: actionId !== 'do-nothing',
    journeyStage: j.events > 5 ? 'CONSIDERATION' : 'AWARENESS',
    experimentId: null,
    experimentArm: j.digest % 2 === 0 ? 'CONTROL' : 'TREATMENT',
    probability: 1,
    score: l.steps,
    candidates: [],
    reasonCodes: j.events % 4 === 0 ? ['GATE_CONSENT_FAILED:SMS', `SELECTED:${actionId}`] : [`SELECTED:${actionId}`],
    policyVersion: 'fake-1',
    eventTime: trigger.time,
    decisionTime,
    schemaVersion: 1,
    modelVersion: null,
    pAlive: null,
    predictedClvMinor: null,
  };
}

export function fakeDomain(): DecisionDomain<CounterJourney, CounterLearner> {
  return {
    policyVersion: 'fake-1',
    initialJourney: (customerId) => ({ customerId, events: 0, lastEventTime: 0, digest: 0, timerArmed: false, timersFired: 0 }),
    initialLearner: () => ({ steps: 0 }),
    // Decides on every event, erasures included ("one decision per event" is exact): deletes nothing.
    deletesJourney: () => false,
    onEvent(journey, learner, event: CustomerEvent, decisionTime): StepResult<CounterJourney, CounterLearner> {
      if (event.value.eventId.startsWith('boom')) throw new Error(`fake domain refuses ${event.value.eventId}`);
      const before = journey ?? this.initialJourney(event.value.customerId);
      const j: CounterJourney = {
        ...before,
        events: before.events + 1,
        lastEventTime: Math.max(before.lastEventTime, event.value.eventTime),
        digest: fnv(before.digest, `${event.name}|${event.value.eventId}`),
        timerArmed: true,
      };
      const l = { steps: learner.steps + 1 };
      return { journey: j, learner: l, decision: decision(j, l, { id: event.value.eventId, type: event.name, time: event.value.eventTime }, decisionTime) };
    },
    nextTimer: (j) => (j.timerArmed ? j.lastEventTime + INACTIVITY_MS : undefined),
    onTimer(journey, learner, dueAt, decisionTime) {
      const j = { ...journey, timerArmed: false, timersFired: journey.timersFired + 1, digest: fnv(journey.digest, `timer|${dueAt}`) };
      const l = { steps: learner.steps + 1 };
      return { journey: j, learner: l, decision: decision(j, l, { id: `timer:${j.customerId}:${dueAt}`, type: 'TIMER', time: dueAt }, decisionTime) };
    },
    serialiseJourney: (j) => Buffer.from(JSON.stringify(j)),
    deserialiseJourney: (b) => JSON.parse(b.toString('utf8')) as CounterJourney,
    serialiseLearner: (l) => Buffer.from(JSON.stringify(l)),
    deserialiseLearner: (b) => JSON.parse(b.toString('utf8')) as CounterLearner,
  };
}
