import { ErrorCodes, NextActError } from '@nextact/core';

/**
 * Sink tuning read from the environment. These belong in core's settings table; they live here
 * until core grows them (see the analytics report), with the same validation style.
 */
export interface SinkSettings {
  maxRows: number;
  maxWaitMs: number;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name}=${JSON.stringify(raw)} is invalid; expected integer ${min}..${max}`);
    return fallback;
  }
  return Number(raw);
}

export function loadSinkSettings(env: NodeJS.ProcessEnv = process.env): SinkSettings {
  const problems: string[] = [];
  const settings = {
    maxRows: int(env, 'ANALYTICS_SINK_MAX_ROWS', 10_000, 1, 1_000_000, problems),
    maxWaitMs: int(env, 'ANALYTICS_SINK_MAX_WAIT_MS', 1_000, 10, 600_000, problems),
  };
  if (problems.length > 0) throw new NextActError(ErrorCodes.CONFIG_INVALID, `Invalid configuration:\n  ${problems.join('\n  ')}`, { details: problems });
  return settings;
}
