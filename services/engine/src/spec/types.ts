/**
 * The decision policy as loaded from policy.yaml (after schema validation and defaults).
 * Durations are in the units their names say (days, hours); helpers in ./units turn them into ms.
 */
import type { BrowseKind, Channel, ChatIntent, JourneyStage } from '@nextact/core';

/**
 * The decision points: what kind of trigger asked for a decision. FOLLOW_UP is a deferred action
 * coming due (timing experiments); it is not a live moment, so live channels are closed to it.
 */
export const TRIGGER_KINDS = ['BROWSE', 'CHAT', 'PURCHASE', 'SURVEY', 'INACTIVITY', 'FOLLOW_UP'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/** Channels a customer can be contacted on (NONE is only the do-nothing action's channel). */
export const CONTACT_CHANNELS = ['EMAIL', 'PUSH', 'SMS', 'WEB', 'CALL_CENTRE', 'CHAT'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];

export const DO_NOTHING = 'do_nothing';

export interface Eligibility {
  /** Journey stages in which the action may be offered; all when absent. */
  stages?: JourneyStage[];
  /** Decision points at which the action may be offered; all when absent. */
  triggers?: TriggerKind[];
  /** true: needs an open complaint intent; false: must have none. */
  openComplaint?: boolean;
  /** true: only for unhappy customers; false: never for them (see `mood`). */
  unhappy?: boolean;
  /** Needs at least one recent interest (category) to recommend from. */
  hasInterests?: boolean;
  minPurchases?: number;
  /** Needs a purchase at least this many days ago (and none more recent). */
  minDaysSincePurchase?: number;
  /** Needs a purchase at most this many days ago. */
  maxDaysSincePurchase?: number;
  /** No survey answered within this many days. */
  minDaysSinceSurvey?: number;
}

export interface BenefitSpec {
  /** Benefit to the customer in a neutral context. */
  base: number;
  /** Added when the customer is unhappy (negative: the action hurts an unhappy customer). */
  unhappy: number;
  /** Added per delivered contact inside the fatigue window (do_nothing grows with fatigue). */
  perRecentContact: number;
}

export interface ActionSpec {
  id: string;
  description?: string;
  /** Channels in preference order; the first that passes every channel gate is used. */
  channels: Channel[];
  /** Business value of a success, in the policy's value unit. */
  value: number;
  /** Cost of one contact, same unit; arbitration uses value - cost. */
  cost: number;
  /** Business lever (campaign weight), multiplies the expected value. */
  lever: number;
  /** Service messages: skip contact caps and marketing suppression, still obey consent, quiet hours, cooldown and action suppression. */
  transactional: boolean;
  /** Minimum time between two deliveries of this action to one customer. */
  cooldownHours: number;
  eligibility: Eligibility;
  benefit: BenefitSpec;
  /** Context weight per decision point (1 when absent). */
  contextWeights: Partial<Record<TriggerKind, number>>;
}

export interface CapSpec {
  max: number;
  windowDays: number;
}

export interface BetaPrior {
  alpha: number;
  beta: number;
}

/**
 * What the CONTROL arm gets: `holdout` logs the decision and sends nothing; `{ deferHours }` sends the
 * same action that much later (a timing experiment), with its gates checked again when it is due.
 */
export type ControlTreatment = 'holdout' | { deferHours: number };

export interface ExperimentSpec {
  id: string;
  description?: string;
  /** Share of customers (by persistent hash) in CONTROL. */
  controlShare: number;
  /** Decision points the experiment covers; all when absent. */
  triggers?: TriggerKind[];
  /** Journey stages the experiment covers; all when absent. */
  stages?: JourneyStage[];
  /** Selected actions the experiment covers; all when absent. */
  actions?: string[];
  /** Covers only decisions within this many hours after the customer's last complaint (mood.complaintIntents). */
  afterComplaintWithinHours?: number;
  control: ControlTreatment;
}

export interface Policy {
  version: string;
  defaults: {
    timeZone: string;
    consent: Record<ContactChannel, boolean>;
  };
  journey: {
    /** Browse kinds that show purchase intent (AWARENESS -> CONSIDERATION). */
    considerationKinds: BrowseKind[];
    /** No customer activity for this long moves these stages to CHURN_RISK (timer). */
    inactivityDays: number;
    inactivityStages: JourneyStage[];
    /** PURCHASE lasts this long, then RETENTION (or ADVOCACY when qualified). */
    purchaseStageHours: number;
    advocacy: { minPurchases: number; minNps: number };
    /** Half-life of the decayed purchase frequency. */
    frequencyHalfLifeDays: number;
    /** An unresolved chat intent older than this is forgotten. */
    openIntentMaxDays: number;
  };
  /** When a customer counts as unhappy (and moves to CHURN_RISK). */
  mood: {
    complaintIntents: ChatIntent[];
    negativeSentimentBelow: number;
    detractorNpsAtMost: number;
    unhappyCsatAtMost: number;
    /** Sentiment, NPS and CSAT signals older than this no longer count. */
    memoryDays: number;
  };
  /** Which events ask for a decision; all others only update state. */
  triggers: {
    browseKinds: BrowseKind[];
    chat: { sentimentBelow: number; unresolvedIntents: ChatIntent[] };
    purchase: boolean;
    survey: { npsAtMost: number; csatAtMost: number };
    inactivity: boolean;
  };
  contactPolicy: {
    quietHours: { start: string; end: string; channels: Channel[] };
    /** Channels that only exist while the customer is live (on site, in chat): usable only at these decision points. */
    liveChannels: { channels: Channel[]; triggers: TriggerKind[] };
    caps: {
      perChannel: Partial<Record<ContactChannel, CapSpec>>;
      global: CapSpec & { channels: Channel[] };
    };
    suppression: { dismissedDays: number; complainedDays: number };
    fatigueWindowDays: number;
  };
  arbitration: {
    benefitWeight: number;
    /** Softmax temperature: lower = greedier. */
    temperature: number;
  };
  learning: {
    prior: BetaPrior;
    actionPriors: Record<string, BetaPrior>;
    /** Observed counts lose half their weight over this much event time; never when absent. */
    halfLifeDays?: number;
  };
  experiments: ExperimentSpec[];
  actions: ActionSpec[];
  /** Customer futures (BG/NBD + Gamma-Gamma, docs/clv.md) in decisions; absent: the models are only recorded. */
  customerFutures?: CustomerFuturesPolicy;
  /**
   * Actions not offered to segments where the segments report found no uplift (interval at or
   * below 0: sure things and sleeping dogs). A rule matches when every field it gives matches.
   */
  upliftSuppressions: UpliftSuppression[];
}

export interface UpliftSuppression {
  action: string;
  /** Journey stage at the decision. */
  stage?: JourneyStage;
  /** Sales channel of the customer's first purchase. */
  acquisitionChannel?: string;
  /** The customer's main category at the decision (core's main-category: most browsed or bought). */
  mainCategory?: string;
  /** Where the rule came from (report, date, interval): for people, not matched. */
  note?: string;
}

export interface CustomerFuturesPolicy {
  /**
   * CHURN_RISK (cause P_ALIVE) once P(alive) under the model in force falls below `pAliveBelow` with
   * no activity since, in the journey's inactivity stages: alongside the inactivity timer. Only for
   * customers with at least `minRepeatPurchases` repeat purchase days (P(alive) is 1 at x = 0).
   */
  churnRisk?: { pAliveBelow: number; minRepeatPurchases: number };
  /**
   * Predicted CLV as the value term: an action's net value is multiplied by
   * min(maxMultiplier, predicted CLV / referenceClvMinor) where the customer has a prediction.
   */
  valueTerm?: { source: 'clv'; referenceClvMinor: number; maxMultiplier: number };
}
