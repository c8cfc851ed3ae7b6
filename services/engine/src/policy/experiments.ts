/**
 * Persistent randomized experiments. A customer's arm is a hash of (experiment id, customer id): stable
 * across decisions, partitions and replays, independent across experiments. The first assignment is
 * also kept in the journey so changing controlShare later does not move existing customers.
 *
 * CONTROL is a holdout (nothing sent) unless the experiment defers: then CONTROL gets the same action
 * `deferHours` later, which is how timing questions ("does asking right after a complaint hurt?") get
 * an answer from both arms.
 */
import type { ExperimentArm, JourneyStage } from '@nextact/core';
import type { ExperimentSpec, Policy, TriggerKind } from '../spec/types';
import { hours } from '../spec/units';
import { uniformFromSeed } from './hash';

export function hashArm(experimentId: string, customerId: string, controlShare: number): Exclude<ExperimentArm, 'NONE'> {
  return uniformFromSeed(`experiment:${experimentId}:${customerId}`) < controlShare ? 'CONTROL' : 'TREATMENT';
}

export interface ExperimentScope {
  trigger: TriggerKind;
  stage: JourneyStage;
  /** The action arbitration selected. */
  actionId: string;
  /** Event time of the decision. */
  now: number;
  lastComplaintAt: number | null;
}

export function covers(x: ExperimentSpec, s: ExperimentScope): boolean {
  if (x.triggers && !x.triggers.includes(s.trigger)) return false;
  if (x.stages && !x.stages.includes(s.stage)) return false;
  if (x.actions && !x.actions.includes(s.actionId)) return false;
  if (x.afterComplaintWithinHours !== undefined && (s.lastComplaintAt === null || s.now - s.lastComplaintAt > hours(x.afterComplaintWithinHours))) return false;
  return true;
}

/** The first experiment covering this decision, if any (list narrow experiments before broad holdouts). */
export function experimentFor(policy: Policy, scope: ExperimentScope): ExperimentSpec | undefined {
  return policy.experiments.find((x) => covers(x, scope));
}

/** Hours CONTROL defers the action by, or undefined for a holdout. */
export function deferHoursOf(x: ExperimentSpec): number | undefined {
  return typeof x.control === 'object' ? x.control.deferHours : undefined;
}
