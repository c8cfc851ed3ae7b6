import { avroType, ErrorCodes } from '@nextact/core';
import { NO_CATEGORIES } from '@nextact/core/src/main-category';
import { decisionFingerprint, eventFingerprint } from '../../src/journey/fingerprint';
import { BOUNDS, type JourneyState, NO_SUPPRESSIONS } from '../../src/journey/state';
import type { LearnerState } from '../../src/policy/learner';
import { browse, chat, consent, DAY, domainFor, HOUR, purchase, survey, T0, WALL } from '../policy/helpers';

const C = 'cust-j';

/** Feeds events in order and returns the final journey. */
function run(events: Parameters<ReturnType<typeof domainFor>['onEvent']>[2][], domain = domainFor()) {
  let journey: JourneyState | undefined;
  let learner: LearnerState = domain.initialLearner();
  for (const e of events) {
    const r = domain.onEvent(journey, learner, e, WALL);
    journey = r.journey;
    learner = r.learner;
  }
  return journey!;
}

describe('journey stages', () => {
  it('starts in AWARENESS; a page view keeps it there, a product view moves to CONSIDERATION', () => {
    const domain = domainFor();
    expect(domain.initialJourney(C)).toMatchObject({ v: 4, stage: 'AWARENESS', previousStage: null, stageEnteredAt: null });
    const j1 = run([browse(C, T0, { kind: 'PAGE_VIEW' })], domain);
    expect(j1.stage).toBe('AWARENESS');
    expect(j1.stageEnteredAt).toBe(T0);
    const j2 = run([browse(C, T0, { kind: 'PAGE_VIEW' }), browse(C, T0 + HOUR, { kind: 'ADD_TO_CART' })], domain);
    expect(j2).toMatchObject({ stage: 'CONSIDERATION', previousStage: 'AWARENESS', stageEnteredAt: T0 + HOUR });
  });

  it('purchase -> PURCHASE, then RETENTION after purchaseStageHours (by timer, at the exact due time)', () => {
    const domain = domainFor();
    const j = run([browse(C, T0), purchase(C, T0 + HOUR)], domain);
    expect(j).toMatchObject({ stage: 'PURCHASE', previousStage: 'CONSIDERATION', stageEnteredAt: T0 + HOUR });
    const due = T0 + HOUR + 72 * HOUR;
    expect(domain.nextTimer(j)).toBe(due);
    expect(domain.onTimer(j, domain.initialLearner(), due - 1, WALL).journey).toBe(j); // not due yet: untouched
    const settled = domain.onTimer(j, domain.initialLearner(), due + 5 * HOUR, WALL);
    expect(settled.decision).toBeUndefined(); // settling is not a decision point
    expect(settled.journey).toMatchObject({ stage: 'RETENTION', previousStage: 'PURCHASE', stageEnteredAt: due });
    // Next timer: inactivity, 30 days after the last activity (the purchase).
    expect(domain.nextTimer(settled.journey)).toBe(T0 + HOUR + 30 * DAY);
  });

  it('repeat purchases and a promoter NPS -> ADVOCACY', () => {
    const j = run([purchase(C, T0), purchase(C, T0 + 10 * DAY), survey(C, T0 + 20 * DAY, 10)]);
    // The second purchase's PURCHASE window ended on day 13 (applied when the survey arrived), then the promoter score.
    expect(j).toMatchObject({ stage: 'ADVOCACY', previousStage: 'RETENTION', stageEnteredAt: T0 + 20 * DAY });
    const single = run([purchase(C, T0), survey(C, T0 + 20 * DAY, 10)]);
    expect(single.stage).toBe('RETENTION'); // one purchase is not enough
  });

  it('unresolved complaint -> CHURN_RISK; resolution with positive sentiment recovers to RETENTION', () => {
    const domain = domainFor();
    const before = run([purchase(C, T0), chat(C, T0 + 5 * DAY, { intent: 'COMPLAINT', sentiment: -0.2 })], domain);
    expect(before).toMatchObject({ stage: 'CHURN_RISK', previousStage: 'RETENTION', churnCause: 'COMPLAINT' });
    expect(before.openIntents).toEqual([{ conversationId: 'c1', intent: 'COMPLAINT', sentiment: -0.2, openedAt: T0 + 5 * DAY, updatedAt: T0 + 5 * DAY }]);
    expect(domain.nextTimer(before)).toBeUndefined(); // no inactivity timer inside CHURN_RISK
    const after = domain.onEvent(before, domain.initialLearner(), chat(C, T0 + 6 * DAY, { intent: 'COMPLAINT', sentiment: 0.6, resolved: true }), WALL).journey;
    expect(after).toMatchObject({ stage: 'RETENTION', previousStage: 'CHURN_RISK', churnCause: null, openIntents: [] });
  });

  it('strongly negative sentiment and detractor NPS -> CHURN_RISK with their causes', () => {
    expect(run([browse(C, T0), chat(C, T0 + HOUR, { sentiment: -0.8 })])).toMatchObject({ stage: 'CHURN_RISK', churnCause: 'SENTIMENT' });
    expect(run([purchase(C, T0), survey(C, T0 + 4 * DAY, 3)])).toMatchObject({ stage: 'CHURN_RISK', churnCause: 'DETRACTOR', nps: { score: 3 } });
    expect(run([purchase(C, T0), survey(C, T0 + 4 * DAY, null, 1)])).toMatchObject({ stage: 'CHURN_RISK', csat: { score: 1 } });
    // A mildly negative message is not churn risk.
    expect(run([browse(C, T0), chat(C, T0 + HOUR, { sentiment: -0.4 })]).stage).toBe('CONSIDERATION');
  });

  it('inactivity timer moves to CHURN_RISK at lastActivity + 30 days and decides at that event time', () => {
    const domain = domainFor();
    const learner = domain.initialLearner();
    let j = run([purchase(C, T0)], domain);
    j = domain.onTimer(j, learner, T0 + 80 * HOUR, WALL).journey; // settles to RETENTION
    const due = T0 + 30 * DAY;
    expect(domain.nextTimer(j)).toBe(due);
    expect(domain.onTimer(j, learner, due - 1, WALL).decision).toBeUndefined();
    const fired = domain.onTimer(j, learner, due + 3 * HOUR, WALL + 5);
    expect(fired.journey).toMatchObject({ stage: 'CHURN_RISK', previousStage: 'RETENTION', stageEnteredAt: due, churnCause: 'INACTIVITY' });
    expect(fired.decision).toMatchObject({
      triggerType: 'TIMER',
      triggerEventId: `timer:INACTIVITY:${C}:${due}`,
      eventTime: due,
      decisionTime: WALL + 5,
      journeyStage: 'CHURN_RISK',
      experimentId: 'winback-holdout-2026q4',
    });
    expect(fired.decision!.reasonCodes[0]).toBe('TRIGGER:INACTIVITY');
    // Firing again does nothing: the transition already happened.
    const again = domain.onTimer(fired.journey, learner, due + 4 * HOUR, WALL);
    expect(again.decision).toBeUndefined();
    expect(again.journey).toBe(fired.journey);
  });

  it('an overdue inactivity transition is applied silently before a late-arriving event; browsing then recovers', () => {
    const j = run([purchase(C, T0), browse(C, T0 + 45 * DAY, { kind: 'PAGE_VIEW' })]);
    expect(j).toMatchObject({ stage: 'CHURN_RISK', churnCause: 'INACTIVITY', stageEnteredAt: T0 + 30 * DAY });
    const back = run([purchase(C, T0), browse(C, T0 + 45 * DAY, { kind: 'PRODUCT_VIEW' })]);
    expect(back).toMatchObject({ stage: 'RETENTION', previousStage: 'CHURN_RISK', stageEnteredAt: T0 + 45 * DAY });
  });
});

describe('journey facts', () => {
  it('keeps RFM with a decayed frequency (half-life 90 days)', () => {
    const j = run([purchase(C, T0, 4000), purchase(C, T0 + 90 * DAY, 6000)]);
    expect(j.rfm).toEqual({
      lastEventTime: T0 + 90 * DAY,
      lastActivityTime: T0 + 90 * DAY,
      lastPurchaseTime: T0 + 90 * DAY,
      purchaseCount: 2,
      monetaryMinor: 10000,
      frequency: 1.5,
      frequencyAt: T0 + 90 * DAY,
    });
  });

  it('keeps the 10 most recent interests, most recent first, without duplicates', () => {
    const events = Array.from({ length: 12 }, (_, i) => browse(C, T0 + i * HOUR, { category: `cat-${i}` }));
    events.push(browse(C, T0 + 20 * HOUR, { category: 'cat-5' }));
    const j = run(events);
    expect(j.interests).toHaveLength(BOUNDS.interests);
    expect(j.interests.slice(0, 3)).toEqual(['cat-5', 'cat-11', 'cat-10']);
    expect(j.interests).not.toContain('cat-0');
  });

  it('records consent and a valid time zone; ignores an invalid zone', () => {
    const j = run([consent(C, T0, 'SMS', true, 'America/New_York'), consent(C, T0 + 1, 'EMAIL', false, 'Not/AZone')]);
    expect(j.consent).toEqual({ EMAIL: false, PUSH: true, SMS: true, WEB: true, CALL_CENTRE: false, CHAT: true });
    expect(j.timeZone).toBe('America/New_York');
  });

  it('remembers at most 64 event fingerprints and forgets open intents after 14 days', () => {
    const events = Array.from({ length: 300 }, (_, i) => browse(C, T0 + i * 1000, { kind: 'PAGE_VIEW' }));
    const j = run(events);
    expect(j.seenEvents).toHaveLength(BOUNDS.seenEvents);
    expect(j.seenEvents[BOUNDS.seenEvents - 1]).toBe(eventFingerprint(events[299]!.value.eventId));
    expect(new Set(j.seenEvents).size).toBe(BOUNDS.seenEvents);
    const domain = domainFor();
    const learner = domain.initialLearner();
    // Inside the window a retry is ignored; the oldest beyond the count bound is processed again.
    expect(domain.onEvent(j, learner, events[299 - BOUNDS.seenEvents + 1]!, WALL).journey).toBe(j);
    expect(domain.onEvent(j, learner, events[299 - BOUNDS.seenEvents]!, WALL).journey).not.toBe(j);
    const k = run([chat(C, T0, { intent: 'BILLING' }), browse(C, T0 + 13 * DAY, { kind: 'PAGE_VIEW' })]);
    expect(k.openIntents).toHaveLength(1);
    const l = run([chat(C, T0, { intent: 'BILLING' }), browse(C, T0 + 14 * DAY, { kind: 'PAGE_VIEW' })]);
    expect(l.openIntents).toHaveLength(0);
  });

  it('dedupes by journey time: a retry within the hour is ignored, an id remembered over an hour ago is forgotten', () => {
    const domain = domainFor();
    const learner = domain.initialLearner();
    const first = browse(C, T0, { kind: 'PAGE_VIEW' });
    const late = browse(C, T0 - 5 * DAY, { kind: 'PAGE_VIEW' });
    const j = run([first, browse(C, T0 + 30 * 60_000, { kind: 'PAGE_VIEW' }), late, browse(C, T0 + 59 * 60_000, { kind: 'PAGE_VIEW' })], domain);
    expect(domain.onEvent(j, learner, first, WALL).journey).toBe(j);
    // A late event is dated by the journey clock when it arrived, so its retry is caught too.
    expect(domain.onEvent(j, learner, late, WALL).journey).toBe(j);
    const later = domain.onEvent(j, learner, browse(C, T0 + 61 * 60_000, { kind: 'PAGE_VIEW' }), WALL).journey;
    expect(later.seenEvents).toHaveLength(4);
    expect(later.seenEvents).not.toContain(eventFingerprint(first.value.eventId));
    expect(domain.onEvent(later, learner, first, WALL).journey).not.toBe(later);
  });

  it('fingerprints are 52-bit integers, stable, and distinct over many ids', () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `evt-${i}-${(i * 2654435761) % 1_000_003}`);
    const prints = ids.map(eventFingerprint);
    expect(prints.every((p) => Number.isSafeInteger(p) && p >= 0 && p < 2 ** 52)).toBe(true);
    expect(new Set(prints).size).toBe(ids.length);
    expect(ids.map(eventFingerprint)).toEqual(prints);
    expect(decisionFingerprint('0123456789abcdef0123456789abcdef')).toBe(0x0123456789abc);
    expect(decisionFingerprint('not-hex')).toBe(eventFingerprint('not-hex'));
  });

  it('reads a version-1 JSON journey: ids become fingerprints, the last 64 event ids stay remembered', () => {
    const domain = domainFor();
    const j = run([purchase(C, T0), chat(C, T0 + DAY, { intent: 'COMPLAINT', sentiment: -0.9 })], domain);
    const { seenEvents: _s, seenEventsAt: _a, recentDecisions, ...rest } = j;
    const eventIds = Array.from({ length: 100 }, (_, i) => `old-${i}`);
    const v1 = {
      ...rest,
      v: 1,
      recentEventIds: eventIds,
      recentDecisions: recentDecisions.map(({ id: _id, ...d }) => ({ ...d, decisionId: 'fedcba9876543210fedcba9876543210', channel: 'EMAIL' })),
    };
    const read = domain.deserialiseJourney(Buffer.from(JSON.stringify(v1)));
    expect(read.v).toBe(4);
    expect(read.seenEvents).toEqual(eventIds.slice(-64).map(eventFingerprint));
    expect(read.seenEventsAt).toEqual(eventIds.slice(-64).map(() => j.rfm.lastEventTime));
    expect(read.recentDecisions.map((d) => d.id)).toEqual(recentDecisions.map(() => 0xfedcba9876543));
    expect(read.recentDecisions[0]).not.toHaveProperty('channel');
    // Version 1 kept no purchase days, acquisition channel or category counts: they start again with the next events.
    expect(read.purchaseDays).toBeNull();
    expect({ ...read, seenEvents: [], seenEventsAt: [], recentDecisions: [] }).toEqual({
      ...j,
      seenEvents: [],
      seenEventsAt: [],
      recentDecisions: [],
      purchaseDays: null,
      acquisitionChannel: null,
      categories: NO_CATEGORIES,
    });
    expect(domain.onEvent(read, domain.initialLearner(), browse(C, T0 + DAY, { eventId: 'old-99' }), WALL).journey).toBe(read);
  });

  it('serialises to Avro (schemas/Journey.avsc) and back; refuses an unknown version and corrupt bytes with NXA_DECODE', () => {
    const domain = domainFor();
    const j = run([purchase(C, T0), chat(C, T0 + DAY, { intent: 'COMPLAINT', sentiment: -0.9 }), consent(C, T0 + DAY, 'SMS', true, 'Asia/Tokyo')], domain);
    const bytes = domain.serialiseJourney(j);
    expect(bytes[0]).toBe(8); // zig-zag 4: the version comes first
    expect(domain.deserialiseJourney(bytes)).toEqual(j);
    // What a standard Avro reader with the registered schema sees.
    expect(avroType('nextact.Journey').fromBuffer(bytes)).toMatchObject({
      customerId: C,
      stage: 'CHURN_RISK',
      timeZone: 'Asia/Tokyo',
      seenEvents: j.seenEvents,
    });
    // Read back, the enum-like strings and consent are the shared instances.
    expect(domain.deserialiseJourney(bytes).consent).toBe(j.consent);
    expect(j.suppressions).toBe(NO_SUPPRESSIONS);
    expect(domain.deserialiseJourney(bytes).suppressions).toBe(NO_SUPPRESSIONS);
    // Empty lists are one shared, frozen array, decoded or new.
    expect(domain.deserialiseJourney(bytes).followUps).toBe(domain.initialJourney('other').followUps);
    expect(Object.isFrozen(j.followUps) && j.followUps.length === 0).toBe(true);
    const future = avroType('nextact.Journey').toBuffer({ ...j, v: 5 });
    expect(() => domain.deserialiseJourney(future)).toThrow(
      expect.objectContaining({ code: ErrorCodes.DECODE, message: expect.stringContaining('schema version 5') }),
    );
    expect(() => domain.deserialiseJourney(Buffer.from(JSON.stringify({ ...j, v: 99 })))).toThrow(expect.objectContaining({ code: ErrorCodes.DECODE }));
    expect(() => domain.deserialiseJourney(bytes.subarray(0, bytes.length - 3))).toThrow(expect.objectContaining({ code: ErrorCodes.DECODE }));
    expect(() => domain.deserialiseJourney(Buffer.from('{"v":1,'))).toThrow(expect.objectContaining({ code: ErrorCodes.DECODE }));
  });

  it('encodes a journey larger than any fixed scratch buffer in one piece', () => {
    const domain = domainFor();
    const j = run([purchase(C, T0)], domain);
    const big = { ...j, interests: Array.from({ length: 2000 }, (_, i) => `category-${i}`) };
    expect(domain.deserialiseJourney(domain.serialiseJourney(big)).interests).toEqual(big.interests);
    expect(domain.deserialiseJourney(domain.serialiseJourney(j))).toEqual(j);
  });
});
