/**
 * Engine settings, derived from core's one configuration table (ENGINE_*, POLICY_FILE): defaults
 * that depend on other settings (group from the topic prefix, concurrency from partitions) are
 * resolved here.
 */
import { hostname } from 'node:os';
import type { Config } from '@nextact/core';
import type { StoreKind } from './stores';

export interface EngineSettings {
  groupId: string;
  instanceId: string;
  store: StoreKind;
  /** Undefined when off (`ENGINE_STATE_DIR=off`). */
  stateDir?: string;
  checkpointIntervalMs: number;
  concurrency: number;
  sessionTimeoutMs: number;
  /** Wall-clock stream time on quiet partitions (ENGINE_IDLE_ADVANCE_MS); undefined: off. */
  idleAdvanceMs?: number;
  commitIntervalMs: number;
  commitMaxRecords: number;
  policyFile: string;
}

export function engineSettings(config: Config): EngineSettings {
  return {
    groupId: config.engineGroupId ?? `${config.topicPrefix}engine`,
    instanceId: config.engineInstanceId ?? `${hostname()}-${process.pid}`,
    store: config.engineStore,
    stateDir: config.engineStateDir.toLowerCase() === 'off' ? undefined : config.engineStateDir,
    checkpointIntervalMs: config.engineCheckpointIntervalMs,
    concurrency: config.engineConcurrency ?? Math.min(config.partitions, 8),
    sessionTimeoutMs: config.engineSessionTimeoutMs,
    idleAdvanceMs: config.engineIdleAdvanceMs,
    commitIntervalMs: config.engineCommitIntervalMs,
    commitMaxRecords: config.engineCommitMaxRecords,
    policyFile: config.policyFile,
  };
}
