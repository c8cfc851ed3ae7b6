/**
 * The customer population: who each simulated customer is (latent traits drawn once from their own
 * random stream) and the state their journey carries between activities.
 */
import type { Channel, JourneyStage } from '@nextact/core';
import { categories, zones, zoneWeights } from '../catalog';
import type { PurchaseProcessConfig } from '../purchases';
import { mixSeeds, Rng } from '../rng';
import { clamp, DAY, round3 } from './context';
import { newPurchaseProcess, type PurchaseProcessState } from './purchase-process';

export type Segment = 'value' | 'mainstream' | 'premium';

export interface CustomerTraits {
  segment: Segment;
  timeZone: string;
  utcOffsetHours: number;
  currency: string;
  /** 0..1: how much price puts the customer off. */
  priceSensitivity: number;
  /** 0..1: how readily the customer contacts service (and complains). */
  serviceProneness: number;
  /** Chance that a browse session in consideration ends in a purchase (before price sensitivity). */
  basePropensity: number;
  /** Mean hours between activities. */
  meanGapHours: number;
  /** Share of sessions on the app rather than the web. */
  appShare: number;
  /** Mood the customer returns to when nothing happens (-1..1). */
  moodBase: number;
  /** Index into `categories` of the customer's favourite. */
  favouriteCategory: number;
}

export interface CustomerSnapshot {
  id: string;
  traits: CustomerTraits;
  stage: JourneyStage;
  mood: number;
  purchases: number;
  lastPurchaseAt: number;
  lastComplaintAt: number;
  consent: Partial<Record<Channel, boolean>>;
}

/** A delivered offer whose window is open: any purchase inside it is reported as its conversion. */
export interface OpenOffer {
  decisionId: string;
  actionId: string;
  channel: Channel;
  until: number;
  converted: boolean;
  nextId: () => string;
}

export interface Customer {
  index: number;
  id: string;
  traits: CustomerTraits;
  rng: Rng;
  stage: JourneyStage;
  /** Natural event counter, for event ids. */
  n: number;
  mood: number;
  moodAt: number;
  lastComplaintAt: number;
  lastPurchaseAt: number;
  purchases: number;
  consent: Partial<Record<Channel, boolean>>;
  started: boolean;
  /** End-of-session purchase decision still to come (time), if any. */
  pendingCheckoutAt: number | null;
  /** A purchase already decided and queued (time), if any. */
  plannedPurchaseAt: number | null;
  offers: OpenOffer[];
  deliveries: number[];
  /** Ground-truth purchase process (`purchases: 'bgnbd'`): latent traits, own stream, alive flag. */
  process: PurchaseProcessState | null;
}

export const customerIdOf = (index: number): string => `c-${String(index).padStart(6, '0')}`;

/** The customer with this id, if the population has one (ids are `customerIdOf` their index). */
export function lookupCustomer(customers: readonly Customer[], id: string): Customer | undefined {
  const m = /^c-(\d{6,})$/.exec(id);
  if (!m) return undefined;
  const c = customers[Number(m[1])];
  return c && c.id === id ? c : undefined;
}

/** Customer `index` of the run `seed`, as they stand at `epochMs` (existing customers bought before it). */
export function createCustomer(seed: number, epochMs: number, index: number, purchaseProcess: PurchaseProcessConfig | null): Customer {
  const rng = new Rng(mixSeeds(seed, 'customer', index));
  const zone = zones[rng.weightedIndex(zoneWeights)] ?? zones[0]!;
  const segmentRoll = rng.next();
  const segment: Segment = segmentRoll < 0.35 ? 'value' : segmentRoll < 0.8 ? 'mainstream' : 'premium';
  const traits: CustomerTraits = {
    segment,
    timeZone: zone.timeZone,
    utcOffsetHours: zone.utcOffsetHours,
    currency: zone.currency,
    priceSensitivity: round3(segment === 'value' ? rng.uniform(0.5, 1) : segment === 'premium' ? rng.uniform(0, 0.4) : rng.uniform(0.2, 0.8)),
    serviceProneness: round3(rng.next() ** 1.5),
    basePropensity: round3(rng.uniform(0.02, 0.12)),
    meanGapHours: round3(clamp(12 * Math.exp(rng.normal(0, 0.6)), 3, 96)),
    appShare: round3(rng.next()),
    moodBase: round3(rng.uniform(0.05, 0.45)),
    favouriteCategory: rng.int(0, categories.length - 1),
  };
  const stageRoll = rng.next();
  const stage: JourneyStage =
    stageRoll < 0.4 ? 'AWARENESS' : stageRoll < 0.65 ? 'CONSIDERATION' : stageRoll < 0.87 ? 'RETENTION' : stageRoll < 0.93 ? 'ADVOCACY' : 'CHURN_RISK';
  const existing = stage === 'RETENTION' || stage === 'ADVOCACY' || stage === 'CHURN_RISK';
  const purchases = existing ? rng.int(stage === 'ADVOCACY' ? 3 : 1, 6) : 0;
  const lastPurchaseAt = existing ? epochMs - Math.floor(rng.uniform(1, stage === 'CHURN_RISK' ? 90 : 40) * DAY) : Number.NEGATIVE_INFINITY;
  return {
    index,
    id: customerIdOf(index),
    traits,
    rng,
    stage,
    n: 0,
    mood: stage === 'CHURN_RISK' ? traits.moodBase - 0.4 : traits.moodBase,
    moodAt: epochMs,
    lastComplaintAt: Number.NEGATIVE_INFINITY,
    lastPurchaseAt,
    purchases,
    consent: {},
    started: false,
    pendingCheckoutAt: null,
    plannedPurchaseAt: null,
    offers: [],
    deliveries: [],
    process: purchaseProcess ? newPurchaseProcess(seed, index, purchaseProcess) : null,
  };
}
