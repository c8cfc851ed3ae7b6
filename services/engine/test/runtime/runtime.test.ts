/** Unit tests of the runtime's pure parts: timer index, fold, restored changelog records, gate parsing, settings, fencing detection. */
import { type CustomerEvent, customerEventTypes, ErrorCodes, loadConfig, NextActError } from '@nextact/core';
import { prng } from '../../../../test/support/prng';
import { isFenced } from '../../src/runtime/errors';
import { gateResults } from '../../src/runtime/metrics';
import { emptyEffects, MAX_TIMERS_AT_ONE_INSTANT, Processor } from '../../src/runtime/processor';
import { engineSettings } from '../../src/runtime/settings';
import { LEARNER_KEY, PartitionStore, type RestoredValue, STREAM_TIME_KEY, timerFromHeader, timerHeader } from '../../src/runtime/store';
import { MemoryTimerIndex as TimerIndex } from '../../src/runtime/stores';
import { fakeDomain, INACTIVITY_MS } from './fake-domain';
import { makeEvents } from './helpers';

describe('TimerIndex', () => {
  it('pops due timers in (due, id) order and skips replaced ones', () => {
    const t = new TimerIndex();
    t.set('b', 10);
    t.set('a', 10);
    t.set('c', 5);
    t.set('d', 50);
    t.set('c', 20); // replaced: the entry at 5 must not fire
    t.set('d', undefined);
    const fired: string[] = [];
    for (let e = t.popDue(20); e; e = t.popDue(20)) fired.push(`${e.id}@${e.due}`);
    expect(fired).toEqual(['a@10', 'b@10', 'c@20']);
    expect(t.size).toBe(0);
  });

  it('agrees with a sorted reference under random churn', () => {
    const rnd = prng(42);
    const t = new TimerIndex();
    const ref = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const id = `k${Math.floor(rnd() * 300)}`;
      const due = rnd() < 0.1 ? undefined : Math.floor(rnd() * 1000);
      t.set(id, due);
      if (due === undefined) ref.delete(id);
      else ref.set(id, due);
      if (i % 1000 === 999) {
        const at = Math.floor(rnd() * 1000);
        const expected = [...ref].filter(([, d]) => d <= at).sort(([a, da], [b, db]) => da - db || (a < b ? -1 : 1));
        const got: [string, number][] = [];
        for (let e = t.popDue(at); e; e = t.popDue(at)) got.push([e.id, e.due]);
        expect(got).toEqual(expected);
        for (const [id] of expected) ref.delete(id);
      }
    }
    expect(t.size).toBe(ref.size);
  });
});

function fold(events: CustomerEvent[], split: number[]) {
  const domain = fakeDomain();
  const store = new PartitionStore(domain);
  const p = new Processor(domain, store);
  const decisions: string[] = [];
  let i = 0;
  // Batches only decide transaction boundaries: the fold must not depend on them.
  for (const size of [...split, events.length]) {
    const fx = emptyEffects();
    for (const e of events.slice(i, i + size)) p.applyEvent(e, { decisionTime: 0, triggerTimestamp: 0 }, fx);
    i = Math.min(events.length, i + size);
    decisions.push(...fx.decisions.map((d) => `${d.decision.triggerEventId}:${d.decision.score}`));
  }
  return { decisions, store, domain };
}

describe('Processor', () => {
  const events = makeEvents(900, 20, 9);

  it('fires inactivity timers on stream time, before the record that advanced it', () => {
    const { decisions } = fold(events, []);
    const timers = decisions.filter((d) => d.startsWith('timer:'));
    expect(timers.length).toBeGreaterThan(0);
    // Event 150 comes after a 3-minute gap: every customer active before it has a timer firing first.
    const at150 = decisions.findIndex((d) => d.startsWith('e-150:'));
    expect(decisions[at150 - 1]).toMatch(/^timer:/);
    for (const d of timers) {
      const due = Number(d.split(':')[2]);
      expect(due).toBeLessThanOrEqual(events[events.length - 1]!.value.eventTime);
    }
    expect(decisions.length).toBe(events.length + timers.length);
  });

  it('gives the same decisions whatever the batch boundaries', () => {
    const a = fold(events, []);
    const b = fold(events, [1, 7, 100, 3, 250, 149, 1]);
    expect(b.decisions).toEqual(a.decisions);
    expect(JSON.stringify([...b.store.journeys.range()])).toBe(JSON.stringify([...a.store.journeys.range()]));
  });

  it('reports changed keys, learner and stream time for the changelog', () => {
    const domain = fakeDomain();
    const store = new PartitionStore(domain);
    const fx = emptyEffects();
    new Processor(domain, store).applyEvent(events[0]!, { decisionTime: 1, triggerTimestamp: 2 }, fx);
    expect([...store.journeys.changes()].map(([id]) => id)).toEqual([events[0]!.value.customerId]);
    expect(fx.learnerChanged).toBe(true);
    expect(fx.streamTimeChanged).toBe(true);
    expect(store.timers.dueOf(events[0]!.value.customerId)).toBe(events[0]!.value.eventTime + INACTIVITY_MS);
    expect(fx.decisions[0]!.triggerTimestamp).toBe(2);
  });

  it.each([
    ['goes back in time', 4, 1],
    ['stays at one instant', 5, 1 + MAX_TIMERS_AT_ONE_INSTANT],
  ])('drops a timer that %s instead of looping', (_what, after, fires) => {
    let fired = 0;
    const base = fakeDomain();
    const domain = {
      ...base,
      nextTimer: () => (fired === 0 ? 5 : after),
      onTimer: (...args: Parameters<typeof base.onTimer>) => {
        fired++;
        return base.onTimer(...args);
      },
    };
    const store = new PartitionStore(domain);
    const errors: string[] = [];
    const p = new Processor(domain, store, (id) => errors.push(id));
    const e = { name: customerEventTypes.browse, value: { ...events[0]!.value, eventTime: 10 } } as CustomerEvent;
    p.applyEvent(e, { decisionTime: 0, triggerTimestamp: 0 }, emptyEffects());
    const fx = emptyEffects();
    p.applyEvent({ ...e, value: { ...e.value, eventId: 'x2', eventTime: 20 } } as CustomerEvent, { decisionTime: 0, triggerTimestamp: 0 }, fx);
    expect(fx.timersFired).toBe(fires);
    expect(errors).toHaveLength(1);
  });
});

describe('PartitionStore', () => {
  it('applies restored changelog records without change-logging them', () => {
    const { store, domain } = fold(makeEvents(300, 10, 4), []);
    const copy = new PartitionStore(domain);
    const ids = [...store.journeys.range()].map(([id]) => id);
    // Half the records carry their timer (not decoded until read), half predate the header (decoded to find it).
    const records: [string, RestoredValue][] = ids.map((id, i) => [
      id,
      [domain.serialiseJourney(store.journeys.get(id)!), i % 2 === 0 ? timerFromHeader(timerHeader(store.timers.dueOf(id))) : null],
    ]);
    copy.applyChangelog(records, '42');
    expect(copy.journeys.changedCount).toBe(0);
    for (const id of ids) expect(copy.timers.dueOf(id)).toBe(store.timers.dueOf(id));
    expect(copy.timers.size).toBe(store.timers.size);
    expect(JSON.stringify([...copy.journeys.range()])).toBe(JSON.stringify([...store.journeys.range()]));
    const someone = ids[0]!;
    copy.applyChangelog(
      [
        [LEARNER_KEY, [Buffer.from('{"steps":7}'), null]],
        [STREAM_TIME_KEY, [Buffer.from('{"streamTime":99}'), null]],
        [someone, [null, null]],
      ],
      '43',
    );
    expect(copy.learner).toEqual({ steps: 7 });
    expect(copy.streamTime).toBe(99);
    expect(copy.journeys.get(someone)).toBeUndefined();
    expect(copy.timers.dueOf(someone)).toBeUndefined();
    // In memory nothing is durable.
    expect(copy.stored()).toBeUndefined();
  });
});

describe('gateResults', () => {
  it('parses the gate reason codes', () => {
    expect(gateResults(['TRIGGER:X', 'GATE_CONSENT_FAILED:EMAIL', 'GATE_CAP_GLOBAL', 'GATE_QUIET_HOURS:SMS', 'GATE_FREQUENCY_PASSED', 'SELECTED:a'])).toEqual([
      { gate: 'consent', result: 'failed' },
      { gate: 'cap_global', result: 'failed' },
      { gate: 'quiet_hours', result: 'failed' },
      { gate: 'frequency', result: 'passed' },
    ]);
  });
});

describe('engine settings', () => {
  it('derives documented defaults from the prefix and partitions', () => {
    const s = engineSettings(loadConfig({ NEXTACT_TOPIC_PREFIX: 'p.', NEXTACT_PARTITIONS: '12' }));
    expect(s.groupId).toBe('p.engine');
    expect(s.concurrency).toBe(8);
    expect(s.stateDir).toBe('.stack/data/engine');
    expect(s.checkpointIntervalMs).toBe(1_000);
    expect(s.store).toBe('memory');
  });
  it('names every bad setting', () => {
    expect(() => loadConfig({ ENGINE_CONCURRENCY: '0', ENGINE_SESSION_TIMEOUT_MS: 'x', ENGINE_GROUP_ID: 'a b' })).toThrow(
      /ENGINE_GROUP_ID[\s\S]*ENGINE_CONCURRENCY[\s\S]*ENGINE_SESSION_TIMEOUT_MS/,
    );
    expect(engineSettings(loadConfig({ ENGINE_STATE_DIR: 'off' })).stateDir).toBeUndefined();
    expect(() => loadConfig({ ENGINE_STORE: 'rocksdb' })).toThrow(/ENGINE_STORE[\s\S]*memory or lmdb/);
  });
});

describe('isFenced', () => {
  it("recognises fencing by the port's NXA codes, wrapped or not, and never by error text", () => {
    const fenced = new NextActError(ErrorCodes.KAFKA_FENCED, 'producer fenced');
    expect(isFenced(fenced)).toBe(true);
    expect(isFenced(new Error('batch failed', { cause: fenced }))).toBe(true);
    expect(isFenced(new NextActError(ErrorCodes.KAFKA_STALE_MEMBER, 'generation 3 is stale'))).toBe(true);
    expect(isFenced(new NextActError(ErrorCodes.KAFKA_REBALANCE_IN_PROGRESS, 'rebalancing', { retriable: true }))).toBe(false);
    // A client's own error, not mapped by an adapter, is not recognised by its text.
    expect(
      isFenced(Object.assign(new Error('There is a newer producer with the same transactionalId which fences the current one'), { type: 'PRODUCER_FENCED' })),
    ).toBe(false);
  });
});
