import type { Config } from './config';
import { RecordCodec } from './contracts/codec';
import { errorMessage, NextActError } from './errors';
import { createKafkaClient, type KafkaClient } from './kafka';
import type { Logger } from './logger';
import { retry } from './retry';
import { topicBindings, topicSpecs } from './topics';

/** Kafka client from configuration, with SASL/TLS passed through. */
export function kafkaFromConfig(config: Config, logger: Logger, clientSuffix: string): KafkaClient {
  return createKafkaClient(
    {
      brokers: config.kafkaBrokers,
      clientId: `${config.kafkaClientId}-${clientSuffix}`,
      ssl: config.kafkaSsl,
      sasl:
        config.kafkaSaslMechanism && config.kafkaSaslUsername && config.kafkaSaslPassword
          ? { mechanism: config.kafkaSaslMechanism, username: config.kafkaSaslUsername, password: config.kafkaSaslPassword }
          : undefined,
    },
    logger,
    config.kafkaClient,
  );
}

export function codecFromConfig(config: Config, logger: Logger): RecordCodec {
  return new RecordCodec({ url: config.schemaRegistryUrl, username: config.schemaRegistryUsername, password: config.schemaRegistryPassword }, logger);
}

/** Creates missing topics and registers schemas; safe to run from every service at start. */
export async function provision(config: Config, kafka: KafkaClient, codec: RecordCodec, logger: Logger): Promise<void> {
  const admin = await kafka.admin();
  try {
    const { created } = await admin.ensureTopics(topicSpecs(config));
    if (created.length > 0) logger.info('topics created', { created });
  } finally {
    await admin.close();
  }
  await codec.register(topicBindings(config.topicPrefix));
}

/**
 * provision() retried with backoff while the stack comes up (a service may start before the broker
 * or the registry); each failure becomes the service's not-ready reason. Gives up once `stopping`.
 */
export async function provisionUntilReady(
  config: Config,
  kafka: KafkaClient,
  codec: RecordCodec,
  logger: Logger,
  options: { stopping?: () => boolean; onFailure?: (reason: string) => void } = {},
): Promise<void> {
  await retry(() => provision(config, kafka, codec, logger), {
    retries: 20,
    initialDelayMs: 500,
    maxDelayMs: 5_000,
    shouldRetry: () => !(options.stopping?.() ?? false),
    onRetry: (err, attempt, delayMs) => {
      // The reason /readyz shows: which dependency, its stable code, and when the next try is.
      const code = err instanceof NextActError ? `${err.code}: ` : '';
      options.onFailure?.(`provisioning failed (attempt ${attempt}, next try in ${(delayMs / 1000).toFixed(1)} s): ${code}${errorMessage(err)}`);
      logger.warn('provision failed; retrying', { err, attempt, delayMs });
    },
  });
}

/**
 * A service process's graceful stop: on SIGTERM or SIGINT, `stop` runs once and the process exits 0
 * when it resolves, 1 when it fails or outlasts `timeoutMs` (a stuck broker must not hang a deploy).
 */
export function exitOnSignals(logger: Logger, stop: () => Promise<void>, timeoutMs = 30_000): { readonly stopping: boolean } {
  const state = { stopping: false };
  const onSignal = (signal: NodeJS.Signals) => {
    if (state.stopping) return;
    state.stopping = true;
    logger.info('shutting down', { signal });
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting', { timeoutMs });
      process.exit(1);
    }, timeoutMs);
    force.unref();
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err) => {
        logger.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return state;
}
