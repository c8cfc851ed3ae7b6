/**
 * Engine-only settings (core's `loadConfig` covers the shared ones). Same rules: environment
 * variables with documented defaults, validated at start, every bad one named.
 */
import { hostname } from 'node:os';
import { type Config, ErrorCodes, NextActError } from '@nextact/core';

export interface EngineSettings {
  groupId: string;
  instanceId: string;
  /** Undefined when checkpoints are off (`ENGINE_STATE_DIR=off`). */
  stateDir?: string;
  checkpointIntervalMs: number;
  concurrency: number;
  sessionTimeoutMs: number;
  policyFile: string;
}

export const engineSettingsDoc = [
  ['ENGINE_GROUP_ID', '<prefix>engine', 'Consumer group of the engine instances (also prefixes the transactional ids).'],
  ['ENGINE_INSTANCE_ID', '<host>-<pid>', 'Name of this instance in logs and /state.'],
  ['ENGINE_STATE_DIR', '.stack/data/engine', 'Folder of local store checkpoints (`<group>/<partition>.json`); `off` disables them.'],
  ['ENGINE_CHECKPOINT_INTERVAL_MS', '30000', 'Least time between checkpoints of a partition (also written on release).'],
  ['ENGINE_CONCURRENCY', 'min(partitions, 8)', 'Partitions processed in parallel per instance.'],
  ['ENGINE_SESSION_TIMEOUT_MS', '10000', 'Consumer group session timeout (6000..300000).'],
  ['POLICY_FILE', 'services/engine/policy/policy.yaml', 'Decision policy loaded at start.'],
] as const;

export function loadEngineSettings(config: Config, env: NodeJS.ProcessEnv = process.env): EngineSettings {
  const problems: string[] = [];
  const text = (name: string, fallback: string): string => {
    const raw = env[name]?.trim();
    return raw ? raw : fallback;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(raw)} is invalid; expected integer ${min}..${max}`);
      return fallback;
    }
    return n;
  };
  const groupId = text('ENGINE_GROUP_ID', `${config.topicPrefix}engine`);
  if (!/^[A-Za-z0-9._-]+$/.test(groupId)) problems.push(`ENGINE_GROUP_ID=${JSON.stringify(groupId)} is invalid; expected letters, digits, ".", "_" or "-"`);
  const stateDir = text('ENGINE_STATE_DIR', '.stack/data/engine');
  const settings: EngineSettings = {
    groupId,
    instanceId: text('ENGINE_INSTANCE_ID', `${hostname()}-${process.pid}`),
    stateDir: stateDir.toLowerCase() === 'off' ? undefined : stateDir,
    checkpointIntervalMs: int('ENGINE_CHECKPOINT_INTERVAL_MS', 30_000, 0, 86_400_000),
    concurrency: int('ENGINE_CONCURRENCY', Math.min(config.partitions, 8), 1, 1024),
    sessionTimeoutMs: int('ENGINE_SESSION_TIMEOUT_MS', 10_000, 6_000, 300_000),
    policyFile: text('POLICY_FILE', 'services/engine/policy/policy.yaml'),
  };
  if (problems.length > 0) {
    throw new NextActError(ErrorCodes.CONFIG_INVALID, `Invalid engine configuration:\n  ${problems.join('\n  ')}`, { details: problems });
  }
  return settings;
}
