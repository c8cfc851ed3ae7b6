/**
 * The synthetic world: customers with traits and a journey, acting at simulated times. Pure and
 * deterministic: no wall clock, no Math.random; the same seed and options give the same events.
 *
 * Each customer has its own random stream (seeded from the run seed and the customer index), so
 * what one customer does never shifts what another does. A single priority queue ordered by
 * (simulated time, insertion number) interleaves everyone; `next()` pops it. This class owns that
 * state and wires the behaviours (README.md in this folder lists them); it decides nothing itself.
 */
import type { CustomerEvent, Decision, JourneyStage } from '@nextact/core';
import { type EffectsConfig, type EffectsOverrides, resolveEffects } from '../effects';
import { type PurchaseProcessConfig, resolvePurchaseProcess } from '../purchases';
import { EventQueue } from '../queue';
import { activity } from './activity';
import { DAY, type WorldContext } from './context';
import { type Customer, type CustomerSnapshot, createCustomer, lookupCustomer } from './customer';
import { moodAt } from './mood';
import { scheduleProcessPurchase } from './purchase-process';
import { type DecisionResponse, reactToDecision } from './responses';

export const DEFAULT_EPOCH_MS = Date.UTC(2026, 0, 1);

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

const STAGES: readonly JourneyStage[] = ['AWARENESS', 'CONSIDERATION', 'PURCHASE', 'RETENTION', 'ADVOCACY', 'CHURN_RISK'];

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
  /** The behaviours' view of this world. */
  private readonly context: WorldContext;

  constructor(options: WorldOptions) {
    if (!Number.isInteger(options.customers) || options.customers < 1) throw new RangeError('customers must be a positive integer');
    this.seed = options.seed >>> 0;
    this.epochMs = options.epochMs ?? DEFAULT_EPOCH_MS;
    this.clock = this.epochMs;
    this.effects = resolveEffects(options.effects);
    this.purchaseProcess = options.purchases === 'bgnbd' ? resolvePurchaseProcess(options.purchaseProcess) : null;
    this.context = this.contextOf();
    for (let i = 0; i < options.customers; i++) {
      const customer = createCustomer(this.seed, this.epochMs, i, this.purchaseProcess);
      this.customers.push(customer);
      // Customers join over the first simulated day.
      const joinAt = this.epochMs + Math.floor(customer.rng.next() * DAY);
      this.queue.push({ time: joinAt, customer: i });
      if (customer.process) scheduleProcessPurchase(this.context, customer, joinAt);
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
      else if (!entry.event) activity(this.context, customer, entry.time);
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
    return lookupCustomer(this.customers, id)?.stage;
  }

  customer(id: string): CustomerSnapshot | undefined {
    const c = lookupCustomer(this.customers, id);
    if (!c) return undefined;
    return {
      id: c.id,
      traits: { ...c.traits },
      stage: c.stage,
      mood: moodAt(c, this.clock),
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

  /**
   * How a customer reacts to a decision addressed to them. Only delivered decisions get a reaction:
   * control-arm and do-nothing decisions (deliver=false) change nothing, so the customer's baseline
   * behaviour is the control. Deterministic per decision (responses.ts), and a decision seen twice
   * is answered once.
   */
  respond(decision: Decision): DecisionResponse {
    if (!decision.deliver) return { events: [], scheduled: 0, ignored: 'not-delivered' };
    const c = lookupCustomer(this.customers, decision.customerId);
    if (!c) return { events: [], scheduled: 0, ignored: 'unknown-customer' };
    if (this.responded.has(decision.decisionId)) return { events: [], scheduled: 0, ignored: 'duplicate' };
    this.responded.add(decision.decisionId);
    return reactToDecision(this.context, c, decision);
  }

  private contextOf(): WorldContext {
    const world = this;
    return {
      seed: this.seed,
      epochMs: this.epochMs,
      effects: this.effects,
      purchaseProcess: this.purchaseProcess,
      get now() {
        return world.clock;
      },
      schedule: (entry) => this.queue.push(entry),
      emit: (c, time, event) => this.queue.push({ time, customer: c.index, event }),
      eventId: (c) => `sim-${this.seed}-${c.id}-${c.n++}`,
      transition: (c, to) => {
        if (c.stage === to) return;
        const key = `${c.stage}->${to}`;
        this.transitions[key] = (this.transitions[key] ?? 0) + 1;
        c.stage = to;
      },
    };
  }
}
