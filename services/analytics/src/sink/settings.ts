import type { Config } from '@nextact/core';

/** Sink tuning, read (like every setting) by core's loadConfig. */
export interface SinkSettings {
  maxRows: number;
  maxWaitMs: number;
}

export function sinkSettings(config: Config): SinkSettings {
  return { maxRows: config.sinkMaxRows, maxWaitMs: config.sinkMaxWaitMs };
}
