/**
 * The engine as a process: configuration, provisioning, runtime and the ops HTTP face
 * (/metrics, /healthz, /readyz = joined with all owned partitions restored, /state).
 * Kept apart from main.ts so tests and benchmarks run the same wiring with another domain.
 */
import {
  type Config,
  codecFromConfig,
  createLogger,
  createMetricsRegistry,
  exitOnSignals,
  type HttpService,
  kafkaFromConfig,
  type Logger,
  loadConfig,
  provisionUntilReady,
  sendJson,
  startHttpService,
} from '@nextact/core';
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
  const env = options.env ?? process.env;
  const config = loadConfig(env);
  const settings = engineSettings(config);
  const logger = options.logger ?? createLogger({ level: config.logLevel, bindings: { service: 'engine', instance: settings.instanceId } });
  const registry = createMetricsRegistry('engine');
  const metrics = new EngineMetrics(registry);
  const kafka = kafkaFromConfig(config, logger, `engine-${settings.instanceId}`);
  const codec = codecFromConfig(config, logger);
  await provisionUntilReady(config, kafka, codec, logger);
  const domain = await options.domain(settings, logger);
  logger.info('domain ready', { policyVersion: domain.policyVersion });

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
  const http = await startHttpService({
    name: 'engine',
    host: config.httpHost,
    port: config.enginePort,
    metrics: registry,
    logger,
    readiness: engine.readiness,
    routes: (req, res) => {
      if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/state') {
        sendJson(res, 200, engine.status());
        return true;
      }
      return false;
    },
  });
  await engine.start();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await engine.stop();
      await http.close();
    })();
    return stopping;
  };
  if (options.handleSignals) exitOnSignals(logger, stop);
  return { config, settings, engine, http, metrics, logger, stop };
}
