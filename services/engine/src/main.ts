/**
 * Decision engine process: `npx tsx services/engine/src/main.ts`.
 * Configuration: core settings (KAFKA_BROKERS, NEXTACT_TOPIC_PREFIX, ENGINE_PORT, ...) plus the
 * engine's own (ENGINE_GROUP_ID, ENGINE_INSTANCE_ID, ENGINE_STATE_DIR, POLICY_FILE, ...; see runtime/settings.ts).
 */
import { createLogger, errorMessage } from '@nextact/core';
import { ModelTimeline } from './futures/timeline';
import { createNbaDomain } from './nba';
import { loadPolicy } from './policy/load';
import { startEngineService } from './runtime/service';

startEngineService({
  handleSignals: true,
  domain: (settings, logger) => {
    const policy = loadPolicy(settings.policyFile);
    logger.info('policy loaded', { file: settings.policyFile, version: policy.version });
    // The customer-futures models (<prefix>models) are read as a global table: decisions record the version in force.
    return createNbaDomain(policy, { futures: new ModelTimeline() });
  },
}).catch((err) => {
  createLogger({ bindings: { service: 'engine' } }).error('engine failed to start', { err, message: errorMessage(err) });
  process.exit(1);
});
