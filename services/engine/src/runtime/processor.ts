/**
 * The deterministic fold of one partition: events in offset order, timers by stream time.
 * Pure apart from the stamped `decisionTime`; the runtime and state rebuilds share it, so a
 * replay of the same log yields the same journeys and the same decisions.
 *
 * Timers fire when stream time (max event time seen on the partition) reaches them, before the
 * record that advanced it is applied, in (due, customerId) order. Firing per record rather than
 * per batch keeps decisions independent of how Kafka happened to cut fetches into batches.
 */
import type { CustomerEvent, Decision } from '@nextact/core';
import type { DecisionDomain } from '../domain';
import type { PartitionStore } from './store';

export interface EmittedDecision {
  decision: Decision;
  /** Kafka timestamp of the record that triggered it (event, or the record that advanced stream time). */
  triggerTimestamp: number;
}

/** What a batch did, for the transaction: what to emit (changed journeys are the store's changes). */
export interface BatchEffects {
  decisions: EmittedDecision[];
  learnerChanged: boolean;
  streamTimeChanged: boolean;
  timersFired: number;
}

export const emptyEffects = (): BatchEffects => ({ decisions: [], learnerChanged: false, streamTimeChanged: false, timersFired: 0 });

export interface StepContext {
  /** Wall clock stamped on decisions only. */
  decisionTime: number;
  triggerTimestamp: number;
}

/** Timers of one customer that may fire at the same event time before it counts as a loop. */
export const MAX_TIMERS_AT_ONE_INSTANT = 8;

export class Processor<J, L> {
  constructor(
    private readonly domain: DecisionDomain<J, L>,
    readonly store: PartitionStore<J, L>,
    private readonly onTimerError: (customerId: string, err: unknown) => void = () => {},
  ) {}

  /**
   * Advances stream time, fires timers due by then, then applies the event. An event that deletes
   * the journey (erasure) is not a customer action: it neither moves stream time nor fires timers,
   * whatever its event time, and the journey goes with its pending timer.
   */
  applyEvent(event: CustomerEvent, ctx: StepContext, fx: BatchEffects): void {
    const customerId = event.value.customerId;
    const before = this.store.journeys.get(customerId);
    if (this.domain.deletesJourney(before, event)) {
      if (before !== undefined) this.store.delete(customerId);
      return;
    }
    const eventTime = event.value.eventTime;
    if (eventTime > this.store.streamTime) {
      this.store.streamTime = eventTime;
      fx.streamTimeChanged = true;
    }
    const fired = fx.timersFired;
    this.fireDue(ctx, fx);
    // A timer of this very customer may have fired: read the journey again only then.
    const journey = fx.timersFired === fired ? before : this.store.journeys.get(customerId);
    const result = this.domain.onEvent(journey, this.store.learner, event, ctx.decisionTime);
    this.store.put(customerId, result.journey);
    this.store.learner = result.learner;
    fx.learnerChanged = true;
    if (result.decision) fx.decisions.push({ decision: result.decision, triggerTimestamp: ctx.triggerTimestamp });
  }

  /** Fires every timer due at or before the current stream time. */
  fireDue(ctx: StepContext, fx: BatchEffects): void {
    const store = this.store;
    // A customer can have several timers due at one instant (a follow-up and a stage change); each
    // onTimer fires one, so firing again at the same time is progress, but only a few times over.
    const refired = new Map<string, number>();
    for (let due = store.timers.popDue(store.streamTime); due; due = store.timers.popDue(store.streamTime)) {
      const journey = store.journeys.get(due.id);
      if (journey === undefined) continue;
      let result: ReturnType<DecisionDomain<J, L>['onTimer']>;
      try {
        result = this.domain.onTimer(journey, store.learner, due.due, ctx.decisionTime);
      } catch (err) {
        this.onTimerError(due.id, err);
        continue;
      }
      fx.timersFired++;
      store.journeys.put(due.id, result.journey);
      const next = this.domain.nextTimer(result.journey);
      const again = next === due.due ? (refired.get(due.id) ?? 0) + 1 : 0;
      if (again > 0) refired.set(due.id, again);
      const advances = next !== undefined && (next > due.due || (next === due.due && again <= MAX_TIMERS_AT_ONE_INSTANT));
      // A timer that does not move forward would fire forever; drop it.
      if (next !== undefined && !advances) this.onTimerError(due.id, new Error(`nextTimer ${next} does not advance past fired timer ${due.due}`));
      store.timers.set(due.id, advances ? next : undefined);
      store.learner = result.learner;
      fx.learnerChanged = true;
      if (result.decision) fx.decisions.push({ decision: result.decision, triggerTimestamp: ctx.triggerTimestamp });
    }
  }
}
