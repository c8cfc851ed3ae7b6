/**
 * Reactions to a delivered decision: delivery, opens, clicks, dismissals, complaints and opt-outs
 * right away; purchases the offer causes (its conversion lift over the customer's own baseline) and
 * survey answers later. Deterministic per decision: its randomness is seeded from the run seed and
 * the decision id, and its event ids derive from the decision id.
 */
import type { ActionOutcome, CustomerEvent, Decision, JourneyStage, OutcomeKind } from '@nextact/core';
import type { ActionEffect } from '../effects';
import { hashString, mixSeeds, Rng } from '../rng';
import { consentEvent } from './consent';
import { clamp, DAY, HOUR, type WorldContext } from './context';
import type { Customer } from './customer';
import { setMood } from './mood';
import { baselinePurchaseProbability } from './propensity';
import { basket, purchase } from './purchasing';
import { surveyEvent } from './surveys';

export interface DecisionResponse {
  /** Follow-ups that happen right away (delivery, opens, clicks, dismissals, complaints, opt-outs). */
  events: CustomerEvent[];
  /** Follow-ups queued in the world for later simulated times (purchases, conversions, survey answers). */
  scheduled: number;
  /** Why nothing happened, when nothing did. */
  ignored?: 'not-delivered' | 'unknown-customer' | 'duplicate';
  /** The world's view at delivery, for checks against ground truth. */
  truth?: { stage: JourneyStage; baselinePurchaseProbability?: number; conversionProbability?: number; converts?: boolean; afterComplaint?: boolean };
}

const hex = (n: number) => n.toString(16).padStart(8, '0');

/** How customer `c` reacts to `decision`, delivered to them (the World has checked it is theirs and new). */
export function reactToDecision(ctx: WorldContext, c: Customer, decision: Decision): DecisionResponse {
  const rng = new Rng(mixSeeds(ctx.seed, 'decision', decision.decisionId));
  // Draw every random number up front, in a fixed order, so each one means the same thing in every run.
  const u = { deliver: rng.next(), convert: rng.next(), open: rng.next(), openDelay: rng.next(), click: rng.next(), negative: rng.next(), when: rng.next() };
  const base = Math.max(decision.eventTime, ctx.now);
  const tag = `${ctx.seed}-${c.id}-r${hex(hashString(decision.decisionId))}${hex(hashString(decision.decisionId, 0x5eed))}`;
  let k = 0;
  const nextId = () => `sim-${tag}-${k++}`;
  const effects = ctx.effects;
  const effect: ActionEffect = effects.actions[decision.actionId] ?? effects.defaultAction;
  const engagement = effects.engagement[decision.channel];
  const stage = effects.stageFrom === 'world' ? c.stage : decision.journeyStage;
  const consented = c.consent[decision.channel] ?? true;
  c.deliveries = c.deliveries.filter((t) => t > base - DAY);
  const fatigue = c.deliveries.length;
  c.deliveries.push(base);

  const events: CustomerEvent[] = [];
  const outcome = (time: number, kind: OutcomeKind, valueMinor: number | null = null): CustomerEvent => ({
    name: 'nextact.ActionOutcome',
    value: {
      eventId: nextId(),
      customerId: c.id,
      eventTime: Math.round(time),
      source: 'sim.channel',
      schemaVersion: 1,
      decisionId: decision.decisionId,
      actionId: decision.actionId,
      channel: decision.channel,
      outcome: kind,
      valueMinor,
    } satisfies ActionOutcome,
  });

  const deliveredAt = base + 1_000 + Math.floor(u.deliver * 29_000);
  events.push(outcome(deliveredAt, 'DELIVERED'));
  const truth: NonNullable<DecisionResponse['truth']> = { stage };
  let scheduled = 0;

  // Conversion lift: raise P(any purchase within the window) by `lift` over the customer's baseline.
  let converts = false;
  const conversion = effect.conversion;
  if (conversion) {
    const until = base + conversion.windowHours * HOUR;
    if (conversion.lift > 0 && conversion.stages.includes(stage)) {
      const p0 = baselinePurchaseProbability(c, base, conversion.windowHours);
      const q = p0 >= 1 ? 0 : Math.min(1, conversion.lift / (1 - p0));
      converts = u.convert < q;
      truth.baselinePurchaseProbability = p0;
      truth.conversionProbability = q;
      truth.converts = converts;
    }
    // Any purchase inside the window is attributed to the offer (reported once as CONVERTED).
    c.offers.push({ decisionId: decision.decisionId, actionId: decision.actionId, channel: decision.channel, until, converted: false, nextId });
  }

  const openRate = clamp(engagement.open * (effect.engagementFactor ?? 1), 0, 1);
  const opened = converts || u.open < openRate;
  let lastTouch = deliveredAt;
  if (opened) {
    const openedAt = deliveredAt + 60_000 + Math.floor(u.openDelay * 2 * HOUR);
    events.push(outcome(openedAt, 'OPENED'));
    lastTouch = openedAt;
    if (converts || u.click < engagement.clickGivenOpen) {
      lastTouch = openedAt + 10_000 + Math.floor(u.click * 600_000);
      events.push(outcome(lastTouch, 'CLICKED'));
    } else if (u.negative < engagement.dismissGivenOpen) {
      events.push(outcome(openedAt + 5_000, 'DISMISSED'));
    }
  } else {
    // Unwanted messages (no consent, or many in a day) draw more complaints and opt-outs.
    const annoyance = (consented ? 1 : 5) * (1 + fatigue);
    const complain = engagement.complain * annoyance;
    const unsubscribe = engagement.unsubscribe * annoyance;
    const at = deliveredAt + 60_000 + Math.floor(u.openDelay * 4 * HOUR);
    if (u.negative < complain) {
      events.push(outcome(at, 'COMPLAINED'));
      setMood(c, at, -0.1);
    } else if (u.negative < complain + unsubscribe) {
      events.push(outcome(at, 'UNSUBSCRIBED'));
      if (decision.channel !== 'NONE') {
        c.consent[decision.channel] = false;
        events.push(consentEvent(c, nextId(), at + 1_000, decision.channel, false));
      }
    } else if (u.negative < complain + unsubscribe + engagement.dismissGivenIgnored) {
      events.push(outcome(at, 'DISMISSED'));
    }
  }

  if (converts && conversion) {
    const windowMs = conversion.windowHours * HOUR;
    const at = Math.min(base + windowMs - 1_000, Math.max(lastTouch + 60_000, base + Math.floor(u.when * windowMs)));
    const items = basket(c, rng, []).map((item) => ({ ...item, unitPriceMinor: Math.round(item.unitPriceMinor * (1 - conversion.discount)) }));
    const purchaseId = nextId();
    c.plannedPurchaseAt = at;
    ctx.schedule({ time: at, customer: c.index, run: () => purchase(ctx, c, at, items, purchaseId, 'WEB') });
    scheduled++;
  }

  if (effect.moodDelta) setMood(c, base, effect.moodDelta);

  if (decision.actionId === effects.survey.actionId) {
    const survey = effects.survey;
    const afterComplaint = base - c.lastComplaintAt <= survey.withinHours * HOUR;
    truth.afterComplaint = afterComplaint;
    const zCsat = rng.normal();
    const zNps = rng.normal();
    if (rng.next() < survey.responseRate) {
      const at = deliveredAt + 10 * 60_000 + Math.floor(rng.next() * 8 * HOUR);
      const eventId = nextId();
      const csatDelta = afterComplaint ? survey.csatDelta : 0;
      const npsDelta = afterComplaint ? survey.npsDelta : 0;
      // Answers to decision surveys do not move the journey, so runs that differ only in the
      // survey effect stay comparable customer by customer.
      ctx.schedule({
        time: at,
        customer: c.index,
        run: () => surveyEvent(ctx, c, at, eventId, 'nba-satisfaction', zCsat, zNps, csatDelta, npsDelta, decision.decisionId, true),
      });
      scheduled++;
    }
  }

  events.sort((a, b) => a.value.eventTime - b.value.eventTime);
  return { events, scheduled, truth };
}
