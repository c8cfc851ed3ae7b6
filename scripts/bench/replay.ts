/**
 * Replay scenario: the same simulated world and size as the engine scenario (seed, events,
 * customers), produced to a scope of its own, then `npm run replay -- shadow` over the whole topic
 * through the shipped policy into a JSON Lines file, as its own process. replay_eps = records folded
 * per second as the replay itself times them (warm-up included, process start excluded, as the
 * engine's backlog figure excludes its start). Compared with engine_eps of the same run.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/services';
import { simulate } from './engine';
import { type BenchContext, openScope, round, runScript } from './lib';

export interface ReplayFigures {
  replayEps: number;
  events: number;
  decisions: number;
  seconds: number;
}

export async function replayScenario(ctx: BenchContext): Promise<ReplayFigures> {
  const { sizes } = ctx;
  const scope = await openScope(ctx, 'replay');
  const out = join(ctx.runDir, 'replay-shadow.jsonl');
  try {
    ctx.say(`producing ${sizes.engineEvents} events with the simulator (as the engine scenario)`);
    await simulate(ctx, scope, 'produce-replay', sizes.engineEvents, sizes.engineCustomers);
    const stdout = await runScript(ctx, 'replay', join(repoRoot, 'services/replay/src/main.ts'), [
      'shadow',
      '--policy',
      join(repoRoot, 'services/engine/policy/policy.yaml'),
      '--all',
      '--out',
      out,
      '--run',
      'bench',
      '--prefix',
      scope.prefix,
      '--progress-file',
      join(ctx.runDir, 'replay.progress.json'),
      '--no-progress',
      '--json',
    ]);
    const r = JSON.parse(stdout) as { recordsRead: number; decisions: number; seconds: number; eventsPerSec: number };
    ctx.say(`replay: ${round(r.eventsPerSec)} events/s (${r.recordsRead} records, ${r.decisions} decisions, ${r.seconds} s)`);
    return { replayEps: round(r.eventsPerSec), events: r.recordsRead, decisions: r.decisions, seconds: r.seconds };
  } finally {
    rmSync(out, { force: true });
    await scope.drop();
  }
}
