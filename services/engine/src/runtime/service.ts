/**
 * The engine as a process on core's service shell: configuration, provisioning, runtime and the ops
 * HTTP face (/metrics, /healthz, /readyz = joined with all owned partitions restored, /state).
 * Kept apart from main.ts so tests and benchmarks run the same wiring with another domain.
 */
import { type Config, type HttpService, type Logger, runService, sendJson } from '@nextact/core';
import type { DecisionDomain } from '../domain';
import { Engine } from './engine';
import { EngineMetrics } from './metrics';
import { type EngineSettings, engineSettings } from './settings';

export interface EngineService<J, L> {
  config: Config;
  settings: EngineSettings;
  engine: Engine<J, L>;
  http: HttpService;
  metrics: EngineMetrics;
  logger: Logger;
  stop(): Promise<void>;
}

export interface EngineServiceOptions<J, L> {
  env?: NodeJS.ProcessEnv;
  /** The domain, built once configuration is known (e.g. after the policy file is read). */
  domain: (settings: EngineSettings, logger: Logger) => Promise<DecisionDomain<J, L>> | DecisionDomain<J, L>;
  logger?: Logger;
  /** Stop gracefully on SIGTERM/SIGINT and exit the process (true for main). */
  handleSignals?: boolean;
}

export async function startEngineService<J, L>(options: EngineServiceOptions<J, L>): Promise<EngineService<J, L>> {
  const handle = await runService({
    name: 'engine',
    env: options.env,
    logger: options.logger,
    port: (config) => config.enginePort,
    bindings: (config) => ({ instance: engineSettings(config).instanceId }),
    kafkaClientSuffix: (config) => `engine-${engineSettings(config).instanceId}`,
    handleSignals: options.handleSignals ?? false,
    start: async ({ config, kafka, codec, logger, metrics: registry, notReady, serve, readiness, onStop }) => {
      const settings = engineSettings(config);
      notReady('loading the policy');
      const domain = await options.domain(settings, logger);
      logger.info('domain ready', { policyVersion: domain.policyVersion });
      const metrics = new EngineMetrics(registry);
      const engine = new Engine({
        kafka,
        codec,
        domain,
        logger,
        metrics,
        topicPrefix: config.topicPrefix,
        groupId: settings.groupId,
        instanceId: settings.instanceId,
        stateDir: settings.stateDir,
        store: settings.store,
        checkpointIntervalMs: settings.checkpointIntervalMs,
        concurrency: settings.concurrency,
        sessionTimeoutMs: settings.sessionTimeoutMs,
        idleAdvanceMs: settings.idleAdvanceMs,
        commitIntervalMs: settings.commitIntervalMs,
        commitMaxRecords: settings.commitMaxRecords,
      });
      readiness(engine.readiness);
      serve((req, res) => {
        if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/state') return false;
        sendJson(res, 200, engine.status());
        return true;
      });
      onStop(() => engine.stop());
      await engine.start();
      return { settings, engine, metrics };
    },
  });
  const { settings, engine, metrics } = handle.service;
  return { config: handle.config, settings, engine, http: handle.http, metrics, logger: handle.logger, stop: handle.stop };
}
