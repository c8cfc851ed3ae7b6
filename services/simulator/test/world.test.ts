import { type CustomerEvent, validateRecord } from '@nextact/core';
import { World } from '../src/world';
import { DAY, decisionFor, mean, runFor } from './helpers';

describe('World determinism', () => {
  it('gives the identical sequence for the same seed and options', () => {
    const a = new World({ seed: 42, customers: 500 }).take(5_000);
    const b = new World({ seed: 42, customers: 500 }).take(5_000);
    expect(b).toEqual(a);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it('gives a different sequence for a different seed', () => {
    const a = new World({ seed: 42, customers: 500 }).take(5_000);
    const b = new World({ seed: 43, customers: 500 }).take(5_000);
    expect(JSON.stringify(b)).not.toBe(JSON.stringify(a));
    const sameIds = a.filter((e, i) => e.value.eventId.replace('sim-42-', '') === b[i]?.value.eventId.replace('sim-43-', '')).length;
    expect(sameIds).toBeLessThan(500);
  });

  it('uses simulated time from the epoch, in order, with seeded ids', () => {
    const world = new World({ seed: 7, customers: 200, epochMs: Date.UTC(2026, 0, 1) });
    const events = world.take(20_000);
    expect(events[0]?.value.eventTime).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 1));
    let outOfOrder = 0;
    for (let i = 1; i < events.length; i++) {
      if ((events[i] as CustomerEvent).value.eventTime < (events[i - 1] as CustomerEvent).value.eventTime) outOfOrder++;
    }
    expect(outOfOrder).toBe(0);
    const ids = new Set(events.map((e) => e.value.eventId));
    expect(ids.size).toBe(events.length);
    for (const e of events.slice(0, 100)) {
      expect(e.value.eventId).toMatch(/^sim-7-c-\d{6}-\d+$/);
      expect(e.value.customerId).toMatch(/^c-\d{6}$/);
    }
  });
});

describe('World events', () => {
  it('generates all six kinds, each valid against its schema', () => {
    const world = new World({ seed: 3, customers: 800 });
    const kinds = new Map<string, number>();
    const invalid: string[] = [];
    const check = (e: CustomerEvent) => {
      try {
        validateRecord(e.name, e.value);
      } catch (err) {
        invalid.push(`${e.value.eventId}: ${(err as Error).message}`);
      }
      kinds.set(e.name, (kinds.get(e.name) ?? 0) + 1);
    };
    for (let i = 0; i < 25_000; i++) {
      const e = world.next();
      check(e);
      // Deliver an offer now and then so outcomes (immediate and scheduled) are checked too.
      if (i % 40 === 0 && e.name === 'nextact.BrowseEvent') {
        const response = world.respond(decisionFor(e, i % 80 === 0 ? 'offer_discount' : 'satisfaction_survey', true));
        for (const r of response.events) check(r);
      }
    }
    expect(invalid).toEqual([]);
    expect([...kinds.keys()].sort()).toEqual([
      'nextact.ActionOutcome',
      'nextact.BrowseEvent',
      'nextact.ChatEvent',
      'nextact.ConsentChange',
      'nextact.PurchaseEvent',
      'nextact.SurveyResponse',
    ]);
  });

  it('builds purchases whose amount is the sum of the basket, in minor units', () => {
    const world = new World({ seed: 11, customers: 500 });
    let seen = 0;
    let wrong = 0;
    runFor(world, 10, (e) => {
      if (e.name !== 'nextact.PurchaseEvent') return;
      seen++;
      const sum = e.value.lineItems.reduce((s, i) => s + i.quantity * i.unitPriceMinor, 0);
      if (e.value.amountMinor !== sum || !Number.isInteger(sum) || e.value.lineItems.length === 0) wrong++;
    });
    expect(seen).toBeGreaterThan(50);
    expect(wrong).toBe(0);
  });

  it('gives every customer a time zone and consent on signup, granted for most channels, with some withdrawals later', () => {
    const world = new World({ seed: 5, customers: 300 });
    const zones = new Set<string>();
    let granted = 0;
    let withdrawn = 0;
    runFor(world, 20, (e) => {
      if (e.name !== 'nextact.ConsentChange') return;
      zones.add(String(e.value.timeZone));
      if (e.value.granted) granted++;
      else withdrawn++;
    });
    expect(zones.size).toBeGreaterThan(5);
    for (const zone of zones) expect(zone).toMatch(/^[A-Z][a-z]+\/[A-Za-z_]+$/);
    expect(granted).toBeGreaterThan(3 * withdrawn);
    expect(withdrawn).toBeGreaterThan(0);
  });

  it('moves customers through the journey stages, including churn risk and advocacy', () => {
    const world = new World({ seed: 9, customers: 600 });
    runFor(world, 25, () => {});
    const { transitions } = world.stats();
    for (const key of ['AWARENESS->CONSIDERATION', 'CONSIDERATION->PURCHASE', 'PURCHASE->RETENTION', 'RETENTION->ADVOCACY', 'CHURN_RISK->RETENTION']) {
      expect(transitions[key] ?? 0).toBeGreaterThan(0);
    }
    const intoChurn = Object.entries(transitions)
      .filter(([k]) => k.endsWith('->CHURN_RISK'))
      .reduce((s, [, v]) => s + v, 0);
    expect(intoChurn).toBeGreaterThan(0);
  });

  it('answers surveys after complaints worse than after good conversations', () => {
    const world = new World({ seed: 21, customers: 1_000 });
    const lastChat = new Map<string, { intent: string; sentiment: number; resolved: boolean }>();
    const afterComplaint: number[] = [];
    const afterGood: number[] = [];
    runFor(world, 20, (e) => {
      if (e.name === 'nextact.ChatEvent') lastChat.set(e.value.customerId, e.value);
      if (e.name === 'nextact.SurveyResponse' && e.value.surveyId === 'post-chat-csat' && e.value.csat !== null) {
        const chat = lastChat.get(e.value.customerId);
        if (chat?.intent === 'COMPLAINT') afterComplaint.push(e.value.csat);
        else if (chat?.resolved && chat.sentiment > 0) afterGood.push(e.value.csat);
      }
    });
    expect(afterComplaint.length).toBeGreaterThan(100);
    expect(afterGood.length).toBeGreaterThan(100);
    expect(mean(afterComplaint)).toBeLessThan(mean(afterGood) - 0.4);
  });

  it('makes chats carry intents and sentiment in [-1, 1], complaints more negative', () => {
    const world = new World({ seed: 4, customers: 600 });
    const byIntent = new Map<string, number[]>();
    let outside = 0;
    runFor(world, 10, (e) => {
      if (e.name !== 'nextact.ChatEvent') return;
      if (e.value.sentiment < -1 || e.value.sentiment > 1) outside++;
      const list = byIntent.get(e.value.intent) ?? [];
      list.push(e.value.sentiment);
      byIntent.set(e.value.intent, list);
    });
    expect(outside).toBe(0);
    expect(byIntent.size).toBeGreaterThanOrEqual(6);
    expect(mean(byIntent.get('COMPLAINT') ?? [0])).toBeLessThan(mean(byIntent.get('PRODUCT_QUESTION') ?? [0]) - 0.4);
  });

  it('advances the simulated clock by days, not by wall-clock time', () => {
    const world = new World({ seed: 1, customers: 100 });
    world.take(10_000);
    expect(world.now - world.epochMs).toBeGreaterThan(DAY);
  });
});
