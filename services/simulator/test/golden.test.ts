/**
 * Golden digests of seeded runs: the world's whole output (events, reactions to decisions, ground
 * truth, final snapshots and stats) for a fixed seed and size must not change by accident, e.g. when
 * the world's code is moved between modules. A change of behaviour on purpose changes the digests:
 * run `GOLDEN_PRINT=1 npx jest services/simulator/test/golden.test.ts`, check that only the intended
 * scenarios moved, and paste the printed digests below (say why in the commit).
 */
import { createHash } from 'node:crypto';
import type { Channel, CustomerEvent } from '@nextact/core';
import { World, type WorldOptions } from '../src/world';
import { decisionFor } from './helpers';

const ACTIONS = [
  'offer_discount',
  'satisfaction_survey',
  'recommend_product',
  'proactive_chat',
  'service_recovery_call',
  'content_nudge',
  'do_nothing',
  'unknown_action',
];
const CHANNELS: Channel[] = ['EMAIL', 'SMS', 'PUSH', 'WEB', 'NONE', 'CALL_CENTRE'];

/** Every line the run produces, hashed in order; decisions on every 7th event exercise respond(). */
function digestOf(options: WorldOptions, events: number): { digest: string; lines: number } {
  const world = new World(options);
  const hash = createHash('sha256');
  let lines = 0;
  const line = (value: unknown) => {
    hash.update(`${JSON.stringify(value)}\n`);
    lines++;
  };
  // Run to a simulated limit first, so nextBefore's stop is covered too.
  const limit = world.epochMs + 2 * 86_400_000;
  for (let e = world.nextBefore(limit); e; e = world.nextBefore(limit)) line(e);
  line(world.now);
  for (let i = 0; i < events; i++) {
    const e: CustomerEvent = world.next();
    line(e);
    if (i % 7 === 0) {
      const actionId = ACTIONS[i % ACTIONS.length] as string;
      const decision = decisionFor(e, actionId, i % 5 !== 0, { channel: CHANNELS[i % CHANNELS.length] as Channel });
      line(world.respond(decision));
      // The same decision again is answered once.
      if (i % 49 === 0) line(world.respond(decision));
    }
    if (i % 1_000 === 0) line(world.stageOf(e.value.customerId));
  }
  for (let i = 0; i < world.customerCount; i += 17) line(world.customer(`c-${String(i).padStart(6, '0')}`));
  line(world.stats());
  return { digest: hash.digest('hex'), lines };
}

const scenarios: { name: string; options: WorldOptions; events: number; digest: string }[] = [
  {
    name: 'sessions, seed 42, 400 customers',
    options: { seed: 42, customers: 400 },
    events: 30_000,
    digest: 'abf15f864d2ae44d1164ff9483a51a60972945d498ae8cdcf60e2749063907c5',
  },
  {
    name: 'bgnbd, seed 7, 400 customers',
    options: { seed: 7, customers: 400, purchases: 'bgnbd' },
    events: 30_000,
    digest: '9e751245c5b5c0d2674639c3e8b684eab9a15fd5dd961b4fb915ee162edb535b',
  },
  {
    name: 'decision stage, other effects, seed 1234, 250 customers',
    options: {
      seed: 1234,
      customers: 250,
      epochMs: Date.UTC(2025, 5, 15, 7),
      effects: {
        stageFrom: 'decision',
        actions: { offer_discount: { conversion: { lift: 0.4, stages: ['CONSIDERATION', 'RETENTION'] } } },
        survey: { csatDelta: -2 },
      },
      purchases: 'bgnbd',
      purchaseProcess: { r: 1.5, alpha: 6 },
    },
    events: 20_000,
    digest: 'a55648e9d430f96e3d6cfcb2b6b3b26c1cb0c49b8d6e2509b584b44d79beee46',
  },
];

describe('World golden digests', () => {
  it.each(scenarios)('$name', ({ options, events, digest }) => {
    const got = digestOf(options, events);
    if (process.env.GOLDEN_PRINT) console.log(`${JSON.stringify(options)}: ${got.digest} (${got.lines} lines)`);
    expect(got.lines).toBeGreaterThan(events);
    expect(got.digest).toBe(digest);
  });
});
