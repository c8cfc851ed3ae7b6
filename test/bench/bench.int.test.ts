/**
 * `npm run bench` is a tool people run by hand, so nothing else would notice it rot. Here the quick
 * bench runs at a tiny size on the real stack; its figures are not judged (no timed assertions),
 * only that every one of them was measured: a positive number, null only for the 1M-journey
 * figures that quick mode leaves out. No time budget here: on a loaded machine a scenario skipped
 * for time would fail a test that is not about time.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { bigStateFigures, figureNames } from '../../scripts/bench/report';

jest.setTimeout(240_000);
const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

test('the quick bench measures every figure and writes them to its JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nextact-bench-smoke-'));
  const out = join(dir, 'run.json');
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', '--quick', '--scale', '0.03', '--budget', '3600', '--out', out], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 230_000,
    });
    const result = JSON.parse(readFileSync(out, 'utf8')) as { mode: string; figures: Record<string, number | null>; errors: Record<string, string> };
    expect(result.errors).toEqual({});
    expect(result.mode).toBe('quick');
    expect(Object.keys(result.figures).sort()).toEqual([...figureNames].sort());
    for (const name of figureNames) {
      const value = result.figures[name];
      if (bigStateFigures.includes(name)) expect(value).toBeNull();
      else expect({ name, positive: typeof value === 'number' && value > 0 }).toEqual({ name, positive: true });
    }
    // The table names every figure too.
    for (const name of figureNames) expect(stdout).toContain(name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
