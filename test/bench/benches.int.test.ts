/**
 * The benchmarks are tools people run by hand, so nothing else would notice them rot (one did: it
 * called a settings function that had been renamed). Each runs here at a tiny size against the real
 * stack; the figures are not judged, only that every bench finishes and its counts add up.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

jest.setTimeout(180_000);
const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

/** The figures a bench prints last: a JSON object on lines of its own. */
async function bench(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 170_000,
  });
  const lines = stdout.split('\n');
  const start = lines.lastIndexOf('{');
  if (start < 0) throw new Error(`no figures in the output:\n${stdout.slice(-2_000)}`);
  return JSON.parse(lines.slice(start).join('\n')) as Record<string, unknown>;
}

test('the engine bench processes a backlog and a steady rate, restores every journey', async () => {
  const r = await bench(['services/engine/bench/engine-bench.ts', '--events', '2000', '--steady', '500', '--rate', '500', '--customers', '200']);
  expect(r.backlogEventsPerSec).toBeGreaterThan(0);
  expect(r.steadyDecisions).toBeGreaterThan(0);
  expect(r.latencyP99Ms).toBeGreaterThanOrEqual(r.latencyP50Ms as number);
  expect(r.journeys).toBe(200);
  expect(r.restoredJourneys).toBe(r.journeys);
});

test('the gateway bench gets every event it posts onto the topic', async () => {
  const r = await bench(['services/gateway/bench/http-bench.ts', '--events', '2000', '--batch', '100', '--concurrency', '2']);
  expect(r.recordsOnTopic).toBe(2000);
  expect(Object.keys(r.statuses as object)).toEqual(['202']);
});

test('the sink bench stores every record it produced', async () => {
  const r = await bench(['services/analytics/bench/sink-throughput.ts', '3000']);
  expect(r.events).toBe(3000);
  expect(r.sinkRowsPerSec).toBeGreaterThan(0);
  expect(r.insertRowsPerSec).toBeGreaterThan(0);
});
