/**
 * What each fault test reports for the suite's summary (summary-reporter.js): how many faults it
 * injected, how much went through, and what it found duplicated or lost. Written before the test's
 * assertions, so a failing run still shows its true numbers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FaultResult {
  name: string;
  faultsInjected: number;
  eventsIn: number;
  decisionsOut: number;
  rowsSunk: number;
  duplicates: number;
  lost: number;
  note?: string;
}

/** FAULTS_PROFILE=ci: the CI variant's sizes; anything else is the full run. */
export const profile = process.env.FAULTS_PROFILE === 'ci' ? 'ci' : 'full';

/** `ci` or `full` size of something, overridable by an environment variable. */
export function sized(envName: string, ci: number, full: number): number {
  const raw = process.env[envName];
  return raw && /^\d+$/.test(raw) ? Number(raw) : profile === 'ci' ? ci : full;
}

export function recordFault(result: FaultResult, startedAt: number): void {
  const dir = process.env.FAULTS_RESULTS_DIR;
  const line = { ...result, startedAt, seconds: Math.round((Date.now() - startedAt) / 100) / 10 };
  process.stdout.write(`fault ${JSON.stringify(line)}\n`);
  if (dir) writeFileSync(join(dir, `${result.name.replace(/[^\w.-]+/g, '_')}.json`), JSON.stringify(line));
}

/** Per id, how often it occurs: duplicates = occurrences beyond the first; lost = expected ids never seen. */
export function tally(expected: Iterable<string>, seen: Iterable<string>): { duplicates: number; lost: number; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
  let duplicates = 0;
  for (const n of counts.values()) if (n > 1) duplicates += n - 1;
  let lost = 0;
  for (const id of expected) if (!counts.has(id)) lost += 1;
  return { duplicates, lost, counts };
}
