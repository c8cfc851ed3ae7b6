/**
 * Persistent randomized holdouts. A customer's arm is a hash of (experiment id, customer id): stable
 * across decisions, partitions and replays, independent across experiments. The first assignment is
 * also kept in the journey so changing controlShare later does not move existing customers.
 */
import type { ExperimentArm, JourneyStage } from '@nextact/core';
import { uniformFromSeed } from './hash';
import type { ExperimentSpec, Policy, TriggerKind } from './types';

export function hashArm(experimentId: string, customerId: string, controlShare: number): Exclude<ExperimentArm, 'NONE'> {
  return uniformFromSeed(`experiment:${experimentId}:${customerId}`) < controlShare ? 'CONTROL' : 'TREATMENT';
}

/** The first experiment covering this decision point, if any. */
export function experimentFor(policy: Policy, trigger: TriggerKind, stage: JourneyStage): ExperimentSpec | undefined {
  return policy.experiments.find((x) => (!x.triggers || x.triggers.includes(trigger)) && (!x.stages || x.stages.includes(stage)));
}
