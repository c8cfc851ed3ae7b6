/**
 * The fold without Kafka: the evaluate probe (candidate asked on the logged inputs) leaves the
 * logged fold exactly as it is, and the logging policy asked as a candidate gives back its own
 * logged probability; the progress output is a bar on a terminal and lines otherwise.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CustomerEvent, type Decision, validateRecord } from '@nextact/core';
import { createNbaDomain, loadPolicy } from '@nextact/engine';
import { parsePolicy } from '@nextact/engine/src/policy/load';
import { makeEvents } from '../../engine/test/runtime/helpers';
import { choiceDistribution, probeDomain } from '../src/evaluate';
import { PartitionFold } from '../src/fold';
import { ProgressReporter } from '../src/progress';

const policyFile = join(__dirname, '../../engine/policy/policy.yaml');
const policy = loadPolicy(policyFile);
const events = makeEvents(2500, 40, 3);
const fail = (err: unknown) => {
  throw err;
};

function foldAll(fold: PartitionFold<unknown, unknown>): Decision[] {
  const out: Decision[] = [];
  for (const e of events) out.push(...fold.apply(e, e.value.eventTime, e.value.eventTime, fail));
  return out;
}

describe('the fold', () => {
  it('is not disturbed by the evaluate probe, and the logging policy as candidate returns its own probabilities', () => {
    const plain = new PartitionFold(createNbaDomain(policy) as never);
    const reference = foldAll(plain);
    const pairs: [Decision, Decision | undefined][] = [];
    const probed = new PartitionFold(probeDomain(createNbaDomain(policy), createNbaDomain(policy), (a, b) => pairs.push([a, b])) as never);
    const decisions = foldAll(probed);
    expect(reference.length).toBeGreaterThan(300);
    expect(decisions).toEqual(reference);
    expect([...probed.contents()]).toEqual([...plain.contents()]);
    expect(pairs.length).toBe(reference.length);
    for (const [a, b] of pairs) {
      expect(b).toEqual(a);
      const p = choiceDistribution(b!, policy.arbitration.temperature).find((x) => x.action === a.actionId)?.probability;
      expect(p).toBeCloseTo(a.probability, 12);
    }
  });

  it('asks another candidate on the logged state, whose own decisions differ', () => {
    const greedy = parsePolicy(readFileSync(policyFile, 'utf8').replace(/temperature: 1.0/, 'temperature: 0.1'), 'greedy.yaml');
    const pairs: [Decision, Decision | undefined][] = [];
    foldAll(new PartitionFold(probeDomain(createNbaDomain(policy), createNbaDomain(greedy), (a, b) => pairs.push([a, b])) as never));
    const moved = pairs.filter(([a, b]) => b && Math.abs(b.probability - a.probability) > 1e-6);
    expect(moved.length).toBeGreaterThan(0);
    // Same context: the same candidates are eligible, only the softmax differs.
    for (const [a, b] of pairs) expect(b!.candidates.map((c) => [c.actionId, c.eligible])).toEqual(a.candidates.map((c) => [c.actionId, c.eligible]));
  });
});

describe('the fold meets an erasure', () => {
  it('deletes the journey as the engine does: no state, no snapshot entry, nothing after a resume, through the probe too', () => {
    const victim = events[0]!.value.customerId;
    const erasure = {
      name: 'nextact.ErasureRequest',
      value: validateRecord('nextact.ErasureRequest', {
        eventId: 'erase-1',
        customerId: victim,
        eventTime: Date.UTC(2000, 0, 1),
        requestedAt: Date.UTC(2026, 0, 1),
        source: 'cli',
        requestedBy: 'dpo',
        reason: null,
      }),
    } as CustomerEvent;
    const half = Math.floor(events.length / 2);
    const log = [...events.slice(0, half), erasure, ...events.slice(half).filter((e) => e.value.customerId !== victim)];
    for (const domain of [createNbaDomain(policy), probeDomain(createNbaDomain(policy), createNbaDomain(policy), () => {})]) {
      const fold = new PartitionFold(domain as never);
      for (const e of log.slice(0, half)) fold.apply(e, e.value.eventTime, e.value.eventTime, fail);
      expect(fold.contents().has(victim)).toBe(true);
      fold.apply(erasure, 0, 0, fail);
      expect(fold.contents().has(victim)).toBe(false);
      const snapshot = fold.snapshot('customer-events', 0, String(half + 1));
      expect(snapshot.journeys.some(([id]) => id === victim)).toBe(false);
      const resumed = new PartitionFold(domain as never);
      resumed.load(snapshot);
      for (const e of log.slice(half + 1)) resumed.apply(e, e.value.eventTime, e.value.eventTime, fail);
      expect(resumed.contents().has(victim)).toBe(false);
      expect(resumed.journeys).toBeGreaterThan(10);
    }
  });
});

describe('progress', () => {
  const sink = (isTTY: boolean) => {
    const out: string[] = [];
    return { out, sink: { isTTY, write: (t: string) => void out.push(t) } };
  };

  it('redraws a bar in place on a terminal', () => {
    const { out, sink: s } = sink(true);
    const p = new ProgressReporter('shadow x', 200n, s, 0);
    p.advance(50n);
    p.finish();
    expect(out[0]).toMatch(/^\rshadow x \[#{8}-{22}\] 25\.0% 50\/200 offsets/);
    expect(out.at(-1)).toBe('\n');
  });

  it('prints whole lines otherwise', () => {
    const { out, sink: s } = sink(false);
    const p = new ProgressReporter('backfill events', 10n, s, 0);
    p.advance(10n);
    expect(out[0]).toMatch(/^backfill events 100\.0% 10\/10 offsets \d+(\.\d)?k?\/s\n$/);
  });
});
