import type { Config } from './config';
import { RecordCodec } from './contracts/codec';
import { createKafkaClient, type KafkaClient } from './kafka/client';
import type { Logger } from './logger';
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
