/**
 * The synthetic world: customers with traits and a journey, acting at simulated times. Pure and
 * deterministic: no wall clock, no Math.random; the same seed and options give the same events.
 *
 * Each customer has its own random stream (seeded from the run seed and the customer index), so
 * what one customer does never shifts what another does. A single priority queue ordered by
 * (simulated time, insertion number) interleaves everyone; `next()` pops it.
 */
import type {
  ActionOutcome,
  BrowseEvent,
  BrowseKind,
  Channel,
  ChatEvent,
  ChatIntent,
  ConsentChange,
  CustomerEvent,
  Decision,
  JourneyStage,
  LineItem,
  OutcomeKind,
  PurchaseEvent,
  SalesChannel,
  SurveyResponse,
} from '@nextact/core';
import {
  type Category,
  categories,
  chatTexts,
  hourlyActivity,
  hourlyActivityMax,
  intentResolution,
  intentSentiment,
  SKUS_PER_CATEGORY,
  skuOf,
  unitPriceMinor,
  zones,
  zoneWeights,
} from './catalog';
import { type ActionEffect, type EffectsConfig, type EffectsOverrides, resolveEffects } from './effects';
import { drawPurchaseTraits, nextPurchaseGapDays, orderValueMinor, type PurchaseProcessConfig, type PurchaseTraits, resolvePurchaseProcess } from './purchases';
import { EventQueue, type Entry as QueueEntry } from './queue';
import { hashString, mixSeeds, Rng } from './rng';

export const DEFAULT_EPOCH_MS = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MOOD_HALF_LIFE_MS = 7 * DAY;
const CONSENT_CHANNELS: readonly Channel[] = ['EMAIL', 'PUSH', 'SMS', 'WEB', 'CALL_CENTRE'];
const CONSENT_GRANT_RATE: Record<string, number> = { EMAIL: 0.9, PUSH: 0.7, SMS: 0.6, WEB: 0.95, CALL_CENTRE: 0.8 };
const CONSENT_ACTIVITY_SHARE = 0.015;

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

interface OpenOffer {
  decisionId: string;
  actionId: string;
  channel: Channel;
  until: number;
  converted: boolean;
  nextId: () => string;
}

interface Customer {
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
  process: { traits: PurchaseTraits; rng: Rng; alive: boolean; purchases: number } | null;
}

export interface WorldOptions {
  seed: number;
  customers: number;
  /** Simulated start (epoch ms); default 2026-01-01T00:00:00Z. */
  epochMs?: number;
  effects?: EffectsOverrides;
  /**
   * Where purchases come from: 'sessions' (default: browse sessions end in checkouts) or 'bgnbd'
   * (a BG/NBD + Gamma-Gamma process with known parameters, see purchases.ts).
   */
  purchases?: 'sessions' | 'bgnbd';
  purchaseProcess?: Partial<PurchaseProcessConfig>;
}

export interface WorldStats {
  events: number;
  byType: Record<string, number>;
  transitions: Record<string, number>;
  stages: Record<JourneyStage, number>;
  simTime: number;
}

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

const STAGES: readonly JourneyStage[] = ['AWARENESS', 'CONSIDERATION', 'PURCHASE', 'RETENTION', 'ADVOCACY', 'CHURN_RISK'];

export const customerIdOf = (index: number): string => `c-${String(index).padStart(6, '0')}`;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const round3 = (v: number) => Math.round(v * 1000) / 1000;
const hex = (n: number) => n.toString(16).padStart(8, '0');

export class World {
  readonly seed: number;
  readonly epochMs: number;
  readonly effects: EffectsConfig;
  /** The ground-truth purchase process, when purchases follow one (else null: session checkouts). */
  readonly purchaseProcess: PurchaseProcessConfig | null;
  private readonly customers: Customer[] = [];
  private readonly queue = new EventQueue<CustomerEvent>();
  private clock: number;
  private emitted = 0;
  private readonly byType: Record<string, number> = {};
  private readonly transitions: Record<string, number> = {};
  private readonly responded = new Set<string>();

  constructor(options: WorldOptions) {
    if (!Number.isInteger(options.customers) || options.customers < 1) throw new RangeError('customers must be a positive integer');
    this.seed = options.seed >>> 0;
    this.epochMs = options.epochMs ?? DEFAULT_EPOCH_MS;
    this.clock = this.epochMs;
    this.effects = resolveEffects(options.effects);
    this.purchaseProcess = options.purchases === 'bgnbd' ? resolvePurchaseProcess(options.purchaseProcess) : null;
    for (let i = 0; i < options.customers; i++) {
      const customer = this.createCustomer(i);
      this.customers.push(customer);
      // Customers join over the first simulated day.
      const joinAt = this.epochMs + Math.floor(customer.rng.next() * DAY);
      this.push({ time: joinAt, customer: i });
      if (customer.process) this.scheduleProcessPurchase(customer, joinAt);
    }
  }

  /** Simulated now: the time of the last event handed out. */
  get now(): number {
    return this.clock;
  }

  get customerCount(): number {
    return this.customers.length;
  }

  /** The next event in simulated-time order. The world never runs dry. */
  next(): CustomerEvent {
    return this.nextBefore(Number.POSITIVE_INFINITY) as CustomerEvent;
  }

  /**
   * The next event if its simulated time is before `limit`, else null (the world is left as it was
   * at `limit`: nothing at or after it has run). Lets a run stop or pause at an exact simulated time.
   */
  nextBefore(limit: number): CustomerEvent | null {
    for (;;) {
      if (this.queue.peekTime() >= limit) return null;
      const entry = this.queue.pop();
      if (entry.time > this.clock) this.clock = entry.time;
      const customer = this.customers[entry.customer] as Customer;
      let event: CustomerEvent | null | undefined = entry.event;
      if (entry.run) event = entry.run();
      else if (!entry.event) this.activity(customer, entry.time);
      if (event) {
        this.emitted++;
        this.byType[event.name] = (this.byType[event.name] ?? 0) + 1;
        return event;
      }
    }
  }

  /** Convenience for tests and tools: the next `count` events. */
  take(count: number): CustomerEvent[] {
    const out: CustomerEvent[] = [];
    for (let i = 0; i < count; i++) out.push(this.next());
    return out;
  }

  /** The customer's true journey stage (cheap; for ground-truth checks). */
  stageOf(id: string): JourneyStage | undefined {
    return this.lookup(id)?.stage;
  }

  customer(id: string): CustomerSnapshot | undefined {
    const c = this.lookup(id);
    if (!c) return undefined;
    return {
      id: c.id,
      traits: { ...c.traits },
      stage: c.stage,
      mood: this.moodAt(c, this.clock),
      purchases: c.purchases,
      lastPurchaseAt: c.lastPurchaseAt,
      lastComplaintAt: c.lastComplaintAt,
      consent: { ...c.consent },
    };
  }

  stats(): WorldStats {
    const stages = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<JourneyStage, number>;
    for (const c of this.customers) stages[c.stage]++;
    return { events: this.emitted, byType: { ...this.byType }, transitions: { ...this.transitions }, stages, simTime: this.clock };
  }

  // ---------------------------------------------------------------- decisions

  /**
   * How a customer reacts to a decision addressed to them. Only delivered decisions get a reaction:
   * control-arm and do-nothing decisions (deliver=false) change nothing, so the customer's baseline
   * behaviour is the control. Deterministic per decision: its randomness is seeded from the run seed
   * and the decision id, and a decision seen twice is answered once.
   */
  respond(decision: Decision): DecisionResponse {
    if (!decision.deliver) return { events: [], scheduled: 0, ignored: 'not-delivered' };
    const c = this.lookup(decision.customerId);
    if (!c) return { events: [], scheduled: 0, ignored: 'unknown-customer' };
    if (this.responded.has(decision.decisionId)) return { events: [], scheduled: 0, ignored: 'duplicate' };
    this.responded.add(decision.decisionId);

    const rng = new Rng(mixSeeds(this.seed, 'decision', decision.decisionId));
    // Draw every random number up front, in a fixed order, so each one means the same thing in every run.
    const u = { deliver: rng.next(), convert: rng.next(), open: rng.next(), openDelay: rng.next(), click: rng.next(), negative: rng.next(), when: rng.next() };
    const base = Math.max(decision.eventTime, this.clock);
    const tag = `${this.seed}-${c.id}-r${hex(hashString(decision.decisionId))}${hex(hashString(decision.decisionId, 0x5eed))}`;
    let k = 0;
    const nextId = () => `sim-${tag}-${k++}`;
    const effect: ActionEffect = this.effects.actions[decision.actionId] ?? this.effects.defaultAction;
    const engagement = this.effects.engagement[decision.channel];
    const stage = this.effects.stageFrom === 'world' ? c.stage : decision.journeyStage;
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
        const p0 = this.baselinePurchaseProbability(c, base, conversion.windowHours);
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
        this.setMood(c, at, -0.1);
      } else if (u.negative < complain + unsubscribe) {
        events.push(outcome(at, 'UNSUBSCRIBED'));
        if (decision.channel !== 'NONE') {
          c.consent[decision.channel] = false;
          events.push({
            name: 'nextact.ConsentChange',
            value: {
              eventId: nextId(),
              customerId: c.id,
              eventTime: at + 1_000,
              source: 'sim.consent',
              schemaVersion: 1,
              channel: decision.channel,
              granted: false,
              timeZone: c.traits.timeZone,
            } satisfies ConsentChange,
          });
        }
      } else if (u.negative < complain + unsubscribe + engagement.dismissGivenIgnored) {
        events.push(outcome(at, 'DISMISSED'));
      }
    }

    if (converts && conversion) {
      const windowMs = conversion.windowHours * HOUR;
      const at = Math.min(base + windowMs - 1_000, Math.max(lastTouch + 60_000, base + Math.floor(u.when * windowMs)));
      const basket = this.basket(c, rng, []);
      const discount = conversion.discount;
      const items = basket.map((item) => ({ ...item, unitPriceMinor: Math.round(item.unitPriceMinor * (1 - discount)) }));
      const purchaseId = nextId();
      c.plannedPurchaseAt = at;
      this.push({ time: at, customer: c.index, run: () => this.purchase(c, at, items, purchaseId, 'WEB') });
      scheduled++;
    }

    if (effect.moodDelta) this.setMood(c, base, effect.moodDelta);

    if (decision.actionId === this.effects.survey.actionId) {
      const survey = this.effects.survey;
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
        this.push({
          time: at,
          customer: c.index,
          run: () => this.surveyEvent(c, at, eventId, 'nba-satisfaction', zCsat, zNps, csatDelta, npsDelta, decision.decisionId, true),
        });
        scheduled++;
      }
    }

    events.sort((a, b) => a.value.eventTime - b.value.eventTime);
    return { events, scheduled, truth };
  }

  /**
   * The world's own estimate of P(the customer buys within `hours` of `at`) with no intervention:
   * the session in progress may still end in a purchase, then sessions arrive at the customer's
   * rate (the daily rhythm integrates out over whole days).
   */
  private baselinePurchaseProbability(c: Customer, at: number, hours: number): number {
    const until = at + hours * HOUR;
    if (c.plannedPurchaseAt !== null && c.plannedPurchaseAt >= at && c.plannedPurchaseAt <= until) return 1;
    if (c.process) return c.process.alive ? 1 - Math.exp((-c.process.traits.lambda * hours) / 24) : 0;
    const pi = this.purchaseChance(c);
    const browseShare = 1 - CONSENT_ACTIVITY_SHARE - this.chatChance(c);
    const perHour = (browseShare * pi) / (c.traits.meanGapHours * this.gapFactor(c));
    let pNone = Math.exp(-perHour * hours);
    if (c.pendingCheckoutAt !== null && c.pendingCheckoutAt >= at && c.pendingCheckoutAt <= until) pNone *= 1 - pi;
    return 1 - pNone;
  }

  // ---------------------------------------------------------------- customers

  private createCustomer(index: number): Customer {
    const rng = new Rng(mixSeeds(this.seed, 'customer', index));
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
    const lastPurchaseAt = existing ? this.epochMs - Math.floor(rng.uniform(1, stage === 'CHURN_RISK' ? 90 : 40) * DAY) : Number.NEGATIVE_INFINITY;
    return {
      index,
      id: customerIdOf(index),
      traits,
      rng,
      stage,
      n: 0,
      mood: stage === 'CHURN_RISK' ? traits.moodBase - 0.4 : traits.moodBase,
      moodAt: this.epochMs,
      lastComplaintAt: Number.NEGATIVE_INFINITY,
      lastPurchaseAt,
      purchases,
      consent: {},
      started: false,
      pendingCheckoutAt: null,
      plannedPurchaseAt: null,
      offers: [],
      deliveries: [],
      process: this.purchaseProcess
        ? (() => {
            const prng = new Rng(mixSeeds(this.seed, 'purchases', index));
            return { traits: drawPurchaseTraits(prng, this.purchaseProcess), rng: prng, alive: true, purchases: 0 };
          })()
        : null,
    };
  }

  private lookup(id: string): Customer | undefined {
    const m = /^c-(\d{6,})$/.exec(id);
    if (!m) return undefined;
    const c = this.customers[Number(m[1])];
    return c && c.id === id ? c : undefined;
  }

  private eventId(c: Customer): string {
    return `sim-${this.seed}-${c.id}-${c.n++}`;
  }

  private moodAt(c: Customer, at: number): number {
    const decay = Math.exp((-Math.LN2 * Math.max(0, at - c.moodAt)) / MOOD_HALF_LIFE_MS);
    return c.traits.moodBase + (c.mood - c.traits.moodBase) * decay;
  }

  private setMood(c: Customer, at: number, delta: number): void {
    c.mood = clamp(this.moodAt(c, at) + delta, -1, 1);
    c.moodAt = Math.max(c.moodAt, at);
  }

  private transition(c: Customer, to: JourneyStage): void {
    if (c.stage === to) return;
    const key = `${c.stage}->${to}`;
    this.transitions[key] = (this.transitions[key] ?? 0) + 1;
    c.stage = to;
  }

  /**
   * The process's next purchase after `from`: the first is not followed by a dropout chance, each
   * repeat is (BG/NBD: alive after x repeats with probability (1 − p)^x).
   */
  private scheduleProcessPurchase(c: Customer, from: number): void {
    const p = c.process;
    const config = this.purchaseProcess;
    if (!p || !config || !p.alive) return;
    const at = Math.round(from + nextPurchaseGapDays(p.rng, p.traits) * DAY);
    const value = orderValueMinor(p.rng, config, p.traits);
    const dropsAfter = p.purchases > 0 && p.rng.chance(p.traits.dropout);
    this.push({
      time: at,
      customer: c.index,
      run: () => {
        const product = this.pickProduct(c, p.rng);
        const items: LineItem[] = [{ sku: skuOf(product.category, product.index), category: product.category.name, quantity: 1, unitPriceMinor: value }];
        const event = this.purchase(c, at, items, this.eventId(c), 'WEB');
        p.purchases++;
        if (dropsAfter) p.alive = false;
        else this.scheduleProcessPurchase(c, at);
        return event;
      },
    });
  }

  /** Chance that a browse session ends in a purchase, by stage (none when a process drives purchases). */
  private purchaseChance(c: Customer): number {
    if (c.process) return 0;
    const t = c.traits;
    const base = t.basePropensity * (1 - 0.3 * t.priceSensitivity);
    switch (c.stage) {
      case 'AWARENESS':
        return base * 0.15;
      case 'CONSIDERATION':
        return base;
      case 'PURCHASE':
      case 'RETENTION':
        return base * 0.6;
      case 'ADVOCACY':
        return base * 0.8;
      case 'CHURN_RISK':
        return base * 0.3;
    }
  }

  private chatChance(c: Customer): number {
    const extra = c.stage === 'PURCHASE' || c.stage === 'RETENTION' ? 0.05 : c.stage === 'CHURN_RISK' ? 0.08 : 0;
    return 0.04 + 0.12 * c.traits.serviceProneness + extra;
  }

  private gapFactor(c: Customer): number {
    return c.stage === 'CHURN_RISK' ? 2 : c.stage === 'AWARENESS' ? 1.5 : 1;
  }

  /** Next activity after `from`: a Poisson process thinned by the customer's local hour of day. */
  private nextActivityTime(c: Customer, from: number): number {
    const meanMs = c.traits.meanGapHours * this.gapFactor(c) * HOUR;
    const offset = c.traits.utcOffsetHours * HOUR;
    let t = from;
    for (;;) {
      t += c.rng.exponential(meanMs / hourlyActivityMax);
      const localHour = Math.floor(((((t + offset) % DAY) + DAY) % DAY) / HOUR);
      if (c.rng.next() * hourlyActivityMax < (hourlyActivity[localHour] as number)) return Math.round(t);
    }
  }

  // ---------------------------------------------------------------- activities

  private activity(c: Customer, at: number): void {
    let end: number;
    if (!c.started) {
      c.started = true;
      end = this.signup(c, at);
    } else {
      this.checkInactivity(c, at);
      const roll = c.rng.next();
      if (roll < CONSENT_ACTIVITY_SHARE) end = this.consentChange(c, at);
      else if (roll < CONSENT_ACTIVITY_SHARE + this.chatChance(c)) end = this.chat(c, at);
      else end = this.browseSession(c, at);
    }
    this.push({ time: this.nextActivityTime(c, end), customer: c.index });
  }

  private checkInactivity(c: Customer, at: number): void {
    if (c.stage === 'PURCHASE') this.transition(c, 'RETENTION');
    const idle = at - c.lastPurchaseAt;
    if ((c.stage === 'RETENTION' && idle > 45 * DAY) || (c.stage === 'ADVOCACY' && idle > 60 * DAY)) this.transition(c, 'CHURN_RISK');
  }

  /** First contact: consent per channel with the customer's time zone. */
  private signup(c: Customer, at: number): number {
    let t = at;
    for (const channel of CONSENT_CHANNELS) {
      const granted = c.rng.chance(CONSENT_GRANT_RATE[channel] ?? 0.8);
      c.consent[channel] = granted;
      this.pushEvent(c, t, this.consentEvent(c, t, channel, granted));
      t += 1_000;
    }
    return t;
  }

  private consentChange(c: Customer, at: number): number {
    const channel = c.rng.pick(CONSENT_CHANNELS);
    const granted = c.consent[channel] ? !c.rng.chance(0.7) : true;
    c.consent[channel] = granted;
    this.pushEvent(c, at, this.consentEvent(c, at, channel, granted));
    return at;
  }

  private consentEvent(c: Customer, at: number, channel: Channel, granted: boolean): CustomerEvent {
    return {
      name: 'nextact.ConsentChange',
      value: {
        eventId: this.eventId(c),
        customerId: c.id,
        eventTime: at,
        source: 'sim.consent',
        schemaVersion: 1,
        channel,
        granted,
        timeZone: c.traits.timeZone,
      },
    };
  }

  private pickProduct(c: Customer, rng: Rng): { category: Category; index: number } {
    const category = rng.chance(0.55) ? (categories[c.traits.favouriteCategory] as Category) : rng.pick(categories);
    const lo = c.traits.segment === 'premium' ? 80 : 0;
    const hi = c.traits.segment === 'value' ? 120 : SKUS_PER_CATEGORY - 1;
    return { category, index: rng.int(lo, hi) };
  }

  private browseSession(c: Customer, at: number): number {
    const rng = c.rng;
    const device = rng.chance(c.traits.appShare) ? 'app' : 'web';
    const sessionId = `s-${this.seed}-${c.id}-${c.n}`;
    const source = `sim.${device}`;
    let t = at;
    const step = (kind: BrowseKind, fields: Partial<BrowseEvent> = {}) => {
      const event: BrowseEvent = {
        eventId: this.eventId(c),
        customerId: c.id,
        eventTime: t,
        source,
        schemaVersion: 1,
        kind,
        sessionId,
        url: null,
        productId: null,
        category: null,
        query: null,
        ...fields,
      };
      this.pushEvent(c, t, { name: 'nextact.BrowseEvent', value: event });
      t += 10_000 + Math.floor(rng.next() * 110_000);
    };
    const viewProduct = () => {
      const p = this.pickProduct(c, rng);
      const sku = skuOf(p.category, p.index);
      step('PRODUCT_VIEW', { productId: sku, category: p.category.name, url: `https://shop.example/p/${sku}` });
      return p;
    };

    if (rng.chance(0.35)) {
      const category = rng.chance(0.6) ? (categories[c.traits.favouriteCategory] as Category) : rng.pick(categories);
      const term = rng.pick(category.terms);
      step('SEARCH', { query: term, category: category.name, url: `https://shop.example/search?q=${encodeURIComponent(term)}` });
    } else {
      step('PAGE_VIEW', { url: 'https://shop.example/' });
    }

    if (c.stage === 'AWARENESS') {
      const pages = rng.int(0, 2);
      for (let i = 0; i < pages; i++) {
        const category = rng.pick(categories);
        step('PAGE_VIEW', { url: `https://shop.example/c/${category.name}`, category: category.name });
      }
      if (rng.chance(0.35)) {
        // Interest sparked: the customer starts comparing products.
        viewProduct();
        this.transition(c, 'CONSIDERATION');
      }
      if (c.stage === 'AWARENESS') return t;
    }

    const cart: { category: Category; index: number }[] = [];
    const views = rng.int(1, 4);
    for (let i = 0; i < views; i++) {
      const p = viewProduct();
      if (rng.chance(0.3)) {
        cart.push(p);
        const sku = skuOf(p.category, p.index);
        step('ADD_TO_CART', { productId: sku, category: p.category.name, url: 'https://shop.example/cart' });
      }
    }
    if (cart.length > 1 && rng.chance(0.15)) {
      const removed = cart.pop() as { category: Category; index: number };
      step('REMOVE_FROM_CART', { productId: skuOf(removed.category, removed.index), category: removed.category.name, url: 'https://shop.example/cart' });
    }

    // Whether the session ends in a purchase is decided when it ends, with the customer as they are then.
    const decideAt = t;
    c.pendingCheckoutAt = decideAt;
    this.push({
      time: decideAt,
      customer: c.index,
      run: () => {
        if (c.pendingCheckoutAt === decideAt) c.pendingCheckoutAt = null;
        if (!rng.chance(this.purchaseChance(c))) return null;
        const items = this.basket(c, rng, cart);
        const purchaseAt = decideAt + 60_000 + Math.floor(rng.next() * 180_000);
        const purchaseId = this.eventId(c);
        const channel: SalesChannel = device === 'app' ? 'APP' : 'WEB';
        c.plannedPurchaseAt = purchaseAt;
        this.push({ time: purchaseAt, customer: c.index, run: () => this.purchase(c, purchaseAt, items, purchaseId, channel) });
        return {
          name: 'nextact.BrowseEvent',
          value: {
            eventId: this.eventId(c),
            customerId: c.id,
            eventTime: decideAt,
            source,
            schemaVersion: 1,
            kind: 'CHECKOUT_START',
            sessionId,
            url: 'https://shop.example/checkout',
            productId: null,
            category: null,
            query: null,
          },
        };
      },
    });
    return t;
  }

  /** Line items: the cart when there is one, else 1-3 products the customer fancies. */
  private basket(c: Customer, rng: Rng, cart: { category: Category; index: number }[]): LineItem[] {
    const chosen = cart.length > 0 ? cart : Array.from({ length: rng.int(1, 3) }, () => this.pickProduct(c, rng));
    return chosen.map((p) => ({
      sku: skuOf(p.category, p.index),
      category: p.category.name,
      quantity: rng.chance(0.8) ? 1 : rng.int(2, 4),
      unitPriceMinor: unitPriceMinor(p.category, p.index),
    }));
  }

  /** A purchase as it happens: moves the journey and reports conversions of open offers. */
  private purchase(c: Customer, at: number, items: LineItem[], eventId: string, channel: SalesChannel): CustomerEvent {
    if (c.plannedPurchaseAt === at) c.plannedPurchaseAt = null;
    const amountMinor = items.reduce((sum, i) => sum + i.quantity * i.unitPriceMinor, 0);
    c.purchases++;
    c.lastPurchaseAt = at;
    this.setMood(c, at, 0.05);
    if (c.stage === 'AWARENESS' || c.stage === 'CONSIDERATION') this.transition(c, 'PURCHASE');
    else if (c.stage === 'CHURN_RISK') this.transition(c, 'RETENTION');
    else if (c.stage === 'RETENTION' && c.purchases >= 4 && this.moodAt(c, at) > 0.35) this.transition(c, 'ADVOCACY');

    c.offers = c.offers.filter((o) => o.until >= at && !o.converted);
    for (const offer of c.offers) {
      offer.converted = true;
      const outcome: ActionOutcome = {
        eventId: offer.nextId(),
        customerId: c.id,
        eventTime: at + 1_000,
        source: 'sim.channel',
        schemaVersion: 1,
        decisionId: offer.decisionId,
        actionId: offer.actionId,
        channel: offer.channel,
        outcome: 'CONVERTED',
        valueMinor: amountMinor,
      };
      this.pushEvent(c, at + 1_000, { name: 'nextact.ActionOutcome', value: outcome });
    }
    c.offers = [];

    if (c.rng.chance(0.25)) {
      const surveyAt = at + DAY + Math.floor(c.rng.next() * 2 * DAY);
      const zCsat = c.rng.normal();
      const zNps = c.rng.normal();
      const surveyId = this.eventId(c);
      this.push({ time: surveyAt, customer: c.index, run: () => this.surveyEvent(c, surveyAt, surveyId, 'post-purchase', zCsat, zNps, 0, 0, null, false) });
    }
    const purchase: PurchaseEvent = {
      eventId,
      customerId: c.id,
      eventTime: at,
      source: 'sim.shop',
      schemaVersion: 1,
      orderId: `o-${eventId.slice(4)}`,
      lineItems: items,
      amountMinor,
      currency: c.traits.currency,
      channel,
    };
    return { name: 'nextact.PurchaseEvent', value: purchase };
  }

  private chat(c: Customer, at: number): number {
    const rng = c.rng;
    const mood = this.moodAt(c, at);
    const intents: ChatIntent[] = ['PRODUCT_QUESTION', 'ORDER_STATUS', 'RETURN_REFUND', 'BILLING', 'COMPLAINT', 'CANCEL', 'OTHER'];
    const after = c.purchases > 0;
    const weights = [
      c.stage === 'CONSIDERATION' ? 5 : 2,
      after ? (c.stage === 'PURCHASE' ? 4 : 1.5) : 0.2,
      after ? 1 : 0,
      0.6,
      0.3 + 2 * c.traits.serviceProneness + (mood < 0 ? 1.5 : 0) + (c.stage === 'CHURN_RISK' ? 1 : 0),
      c.stage === 'CHURN_RISK' ? 1 : 0.03,
      0.6,
    ];
    const intent = intents[rng.weightedIndex(weights)] as ChatIntent;
    const conversationId = `conv-${this.seed}-${c.id}-${c.n}`;
    const messages = rng.int(2, 5);
    const resolved = rng.chance(intentResolution[intent]);
    const escalates = intent === 'COMPLAINT' || intent === 'CANCEL' || (intent === 'RETURN_REFUND' && rng.chance(0.5));
    let t = at;
    let sentimentSum = 0;
    for (let i = 0; i < messages; i++) {
      const last = i === messages - 1;
      let s = intentSentiment[intent] + 0.3 * mood + rng.normal(0, 0.2);
      if (last) s += resolved ? 0.3 : -0.2;
      const sentiment = round3(clamp(s, -1, 1));
      sentimentSum += sentiment;
      const value: ChatEvent = {
        eventId: this.eventId(c),
        customerId: c.id,
        eventTime: t,
        source: 'sim.chat',
        schemaVersion: 1,
        conversationId,
        text: rng.pick(chatTexts[intent]),
        intent,
        sentiment,
        resolved: last && resolved,
        handledBy: i > 0 && escalates ? 'AGENT' : 'BOT',
      };
      this.pushEvent(c, t, { name: 'nextact.ChatEvent', value });
      if (!last) t += 20_000 + Math.floor(rng.next() * 70_000);
    }
    const avgSentiment = sentimentSum / messages;

    if (intent === 'COMPLAINT') {
      c.lastComplaintAt = t;
      this.setMood(c, t, resolved ? -0.3 : -0.5);
    } else {
      this.setMood(c, t, 0.2 * avgSentiment + (resolved ? 0.03 : -0.1));
    }
    const bad = (intent === 'COMPLAINT' || intent === 'CANCEL') && !resolved;
    if (bad && c.stage !== 'AWARENESS') this.transition(c, 'CHURN_RISK');
    else if (intent === 'COMPLAINT' && c.stage === 'ADVOCACY') this.transition(c, 'RETENTION');
    else if (c.stage === 'CHURN_RISK' && resolved && avgSentiment > 0 && rng.chance(0.4)) this.transition(c, 'RETENTION');

    if (rng.chance(0.35)) {
      const surveyAt = t + 5 * 60_000 + Math.floor(rng.next() * 3 * HOUR);
      const zCsat = rng.normal();
      const surveyId = this.eventId(c);
      this.push({ time: surveyAt, customer: c.index, run: () => this.surveyEvent(c, surveyAt, surveyId, 'post-chat-csat', zCsat, null, 0, 0, null, false) });
    }
    return t;
  }

  /** A survey answer reflecting the customer's mood when answering, plus any ground-truth effect. */
  private surveyEvent(
    c: Customer,
    at: number,
    eventId: string,
    surveyId: string,
    zCsat: number,
    zNps: number | null,
    csatDelta: number,
    npsDelta: number,
    decisionId: string | null,
    fromDecision: boolean,
  ): CustomerEvent {
    const mood = this.moodAt(c, at);
    const csat = clamp(Math.round(3.7 + 1.5 * mood + 0.6 * zCsat + csatDelta), 1, 5);
    const nps = zNps === null ? null : clamp(Math.round(7.2 + 3 * mood + 1.2 * zNps + npsDelta), 0, 10);
    if (!fromDecision && nps !== null) {
      if (c.stage === 'RETENTION' && nps >= 9 && c.purchases >= 2) this.transition(c, 'ADVOCACY');
      else if (c.stage === 'ADVOCACY' && nps <= 4) this.transition(c, 'CHURN_RISK');
    }
    const value: SurveyResponse = {
      eventId,
      customerId: c.id,
      eventTime: at,
      source: 'sim.survey',
      schemaVersion: 1,
      surveyId,
      nps,
      csat,
      decisionId,
      comment: null,
    };
    return { name: 'nextact.SurveyResponse', value };
  }

  // ---------------------------------------------------------------- queue

  private pushEvent(c: Customer, time: number, event: CustomerEvent): void {
    this.push({ time, customer: c.index, event });
  }

  private push(entry: Omit<QueueEntry<CustomerEvent>, 'seq'>): void {
    this.queue.push(entry);
  }
}

/** Short type of a record name, as the gateway's JSON and the metrics label it. */
export const kindOf: Record<CustomerEvent['name'], 'browse' | 'chat' | 'purchase' | 'survey' | 'outcome' | 'consent' | 'erasure'> = {
  'nextact.BrowseEvent': 'browse',
  'nextact.ChatEvent': 'chat',
  'nextact.PurchaseEvent': 'purchase',
  'nextact.SurveyResponse': 'survey',
  'nextact.ActionOutcome': 'outcome',
  'nextact.ConsentChange': 'consent',
  'nextact.ErasureRequest': 'erasure',
};
