import type { CustomerEvent, Decision } from '@nextact/core';
import { hashString } from '../src/rng';
import type { World } from '../src/world';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export function decisionFor(trigger: CustomerEvent, actionId: string, deliver: boolean, overrides: Partial<Decision> = {}): Decision {
  return {
    decisionId: `d-${trigger.value.eventId}-${actionId}`,
    customerId: trigger.value.customerId,
    triggerEventId: trigger.value.eventId,
    triggerType: trigger.name,
    actionId,
    channel: 'EMAIL',
    deliver,
    journeyStage: 'CONSIDERATION',
    experimentId: 'exp-test',
    experimentArm: deliver ? 'TREATMENT' : 'CONTROL',
    probability: 0.5,
    score: 0,
    candidates: [],
    reasonCodes: [],
    policyVersion: 'test-1',
    eventTime: trigger.value.eventTime,
    decisionTime: 0,
    schemaVersion: 1,
    modelVersion: null,
    pAlive: null,
    predictedClvMinor: null,
    ...overrides,
  };
}

/** Deterministic 50/50 arm from an event id. */
export const treatedArm = (eventId: string): boolean => (hashString(eventId, 0xa11) & 1) === 1;

/** Runs a world for `days` of simulated time, calling `onEvent` for each event. */
export function runFor(world: World, days: number, onEvent: (e: CustomerEvent) => void): number {
  const end = world.epochMs + days * DAY;
  let n = 0;
  while (world.now < end) {
    onEvent(world.next());
    n++;
  }
  return n;
}

/** Two-sample standard error of a difference in proportions. */
export function seDiff(p1: number, n1: number, p2: number, n2: number): number {
  return Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
}

export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
