/**
 * Ground-truth effects: what the simulated customers do when a decision reaches them. Analytics is
 * checked against these numbers, so they are explicit, configurable and reported with each run.
 */
import type { Channel, JourneyStage } from '@nextact/core';

/** An action that makes a purchase more likely. */
export interface ConversionEffect {
  /**
   * Absolute rise in the probability that the customer buys at least once within `windowHours`
   * of the delivery (e.g. 0.15: a 30 % baseline becomes 45 %). Baseline behaviour goes on as usual;
   * the extra purchases are drawn so that P(any purchase in the window) rises by exactly this much
   * wherever the baseline leaves room for it (p0 + lift <= 1).
   */
  lift: number;
  /** Journey stages in which the lift applies; other stages get no lift (attribution still runs). */
  stages: JourneyStage[];
  windowHours: number;
  /** Fraction taken off the unit prices of the basket the offer causes. */
  discount: number;
}

export interface ActionEffect {
  conversion?: ConversionEffect;
  /** Change of the customer's mood on delivery (service follow-ups make people a little happier). */
  moodDelta?: number;
  /** Multiplies the channel's open rate (a relevant offer is opened more often). */
  engagementFactor?: number;
}

/** How people treat a delivered message on a channel. */
export interface Engagement {
  open: number;
  clickGivenOpen: number;
  dismissGivenOpen: number;
  /** The rest apply when the message was not opened. */
  dismissGivenIgnored: number;
  complain: number;
  unsubscribe: number;
}

/** The "survey right after a complaint" effect. */
export interface SurveyEffect {
  actionId: string;
  /** A survey delivered within this many hours after the customer's last complaint is answered worse. */
  withinHours: number;
  /** Added to the CSAT answer (1-5) before rounding. */
  csatDelta: number;
  /** Added to the NPS answer (0-10) before rounding. */
  npsDelta: number;
  /** Share of delivered surveys that get answered. */
  responseRate: number;
}

export interface EffectsConfig {
  actions: Record<string, ActionEffect>;
  /** Actions not listed: no lift, no mood change. */
  defaultAction: ActionEffect;
  survey: SurveyEffect;
  engagement: Record<Channel, Engagement>;
  /**
   * Whose journey stage decides eligibility for a lift: the world's true stage (default) or the
   * stage the engine stamped on the decision.
   */
  stageFrom: 'world' | 'decision';
}

const engagement = (open: number, clickGivenOpen: number): Engagement => ({
  open,
  clickGivenOpen,
  dismissGivenOpen: 0.2,
  dismissGivenIgnored: 0.25,
  complain: 0.004,
  unsubscribe: 0.008,
});

export const defaultEffects: EffectsConfig = {
  // Action ids as in services/engine/policy/policy.yaml.
  actions: {
    offer_discount: {
      conversion: { lift: 0.15, stages: ['CONSIDERATION'], windowHours: 72, discount: 0.1 },
      engagementFactor: 1.2,
    },
    recommend_product: { conversion: { lift: 0.02, stages: ['CONSIDERATION', 'RETENTION', 'ADVOCACY'], windowHours: 72, discount: 0 } },
    proactive_chat: { conversion: { lift: 0.03, stages: ['CONSIDERATION'], windowHours: 24, discount: 0 }, moodDelta: 0.05 },
    service_recovery_call: { moodDelta: 0.25 },
    content_nudge: { conversion: { lift: 0.01, stages: ['AWARENESS', 'CONSIDERATION'], windowHours: 72, discount: 0 } },
    satisfaction_survey: {},
    do_nothing: {},
  },
  defaultAction: {},
  survey: { actionId: 'satisfaction_survey', withinHours: 24, csatDelta: -1.0, npsDelta: -2.0, responseRate: 0.7 },
  engagement: {
    EMAIL: engagement(0.3, 0.25),
    PUSH: engagement(0.45, 0.2),
    SMS: engagement(0.6, 0.15),
    WEB: engagement(0.5, 0.3),
    CALL_CENTRE: engagement(0.7, 0.4),
    CHAT: engagement(0.8, 0.35),
    NONE: engagement(0, 0),
  },
  stageFrom: 'world',
};

/** Overrides: any part of the defaults, nested objects merged key by key. */
export interface EffectsOverrides {
  actions?: Record<string, Partial<Omit<ActionEffect, 'conversion'>> & { conversion?: Partial<ConversionEffect> | null }>;
  defaultAction?: ActionEffect;
  survey?: Partial<SurveyEffect>;
  engagement?: Partial<Record<Channel, Partial<Engagement>>>;
  stageFrom?: 'world' | 'decision';
}

export function resolveEffects(overrides: EffectsOverrides = {}): EffectsConfig {
  const actions: Record<string, ActionEffect> = {};
  for (const [id, effect] of Object.entries(defaultEffects.actions)) {
    actions[id] = { ...effect, conversion: effect.conversion ? { ...effect.conversion } : undefined };
  }
  for (const [id, override] of Object.entries(overrides.actions ?? {})) {
    const base = actions[id] ?? {};
    const { conversion, ...rest } = override;
    let merged: ConversionEffect | undefined = base.conversion;
    if (conversion === null) merged = undefined;
    else if (conversion) merged = { lift: 0, stages: [], windowHours: 72, discount: 0, ...base.conversion, ...conversion };
    actions[id] = { ...base, ...rest, conversion: merged };
  }
  const engagementOut = { ...defaultEffects.engagement };
  for (const [channel, e] of Object.entries(overrides.engagement ?? {}) as [Channel, Partial<Engagement>][]) {
    engagementOut[channel] = { ...engagementOut[channel], ...e };
  }
  return {
    actions,
    defaultAction: overrides.defaultAction ?? defaultEffects.defaultAction,
    survey: { ...defaultEffects.survey, ...overrides.survey },
    engagement: engagementOut,
    stageFrom: overrides.stageFrom ?? defaultEffects.stageFrom,
  };
}

/** Effects with every lift and delta at zero: the world without causal effects (for A/A checks). */
export function noEffects(): EffectsOverrides {
  const actions: EffectsOverrides['actions'] = {};
  for (const [id, effect] of Object.entries(defaultEffects.actions)) {
    actions[id] = { ...(effect.conversion ? { conversion: { lift: 0 } } : {}), moodDelta: 0 };
  }
  return { actions, survey: { csatDelta: 0, npsDelta: 0 } };
}

/** The run's truth in a form analytics tests can compare against. */
export function describeGroundTruth(effects: EffectsConfig) {
  return {
    conversionLift: Object.fromEntries(
      Object.entries(effects.actions)
        .filter(([, e]) => e.conversion && e.conversion.lift > 0)
        .map(([id, e]) => [id, { lift: e.conversion?.lift, stages: e.conversion?.stages, windowHours: e.conversion?.windowHours }]),
    ),
    surveyAfterComplaint: {
      actionId: effects.survey.actionId,
      withinHours: effects.survey.withinHours,
      csatDelta: effects.survey.csatDelta,
      npsDelta: effects.survey.npsDelta,
    },
    stageFrom: effects.stageFrom,
  };
}
