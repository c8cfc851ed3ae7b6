/**
 * What every behaviour of the world sees: the run's configuration, simulated now, the agenda, event
 * ids and journey transitions (counted for the run's stats). The World owns that state and hands
 * this view to the behaviours, which are plain functions over a customer: none of them holds state
 * of its own, so the same seed still gives the same events whichever module an action lives in.
 */
import type { CustomerEvent, JourneyStage } from '@nextact/core';
import type { EffectsConfig } from '../effects';
import type { PurchaseProcessConfig } from '../purchases';
import type { Entry } from '../queue';
import type { Customer } from './customer';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
export const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** An agenda entry before the queue numbers it. */
export type AgendaEntry = Omit<Entry<CustomerEvent>, 'seq'>;

export interface WorldContext {
  readonly seed: number;
  readonly epochMs: number;
  readonly effects: EffectsConfig;
  /** The ground-truth purchase process, when purchases follow one (else null: session checkouts). */
  readonly purchaseProcess: PurchaseProcessConfig | null;
  /** Simulated now: the time of the last agenda entry taken. */
  readonly now: number;
  /** Queues an activity, a ready event or a thunk run when due (it sees the world as of then). */
  schedule(entry: AgendaEntry): void;
  /** Queues a ready event of the customer. */
  emit(c: Customer, time: number, event: CustomerEvent): void;
  /** The customer's next natural event id. */
  eventId(c: Customer): string;
  /** Moves the customer's journey stage. */
  transition(c: Customer, to: JourneyStage): void;
}
