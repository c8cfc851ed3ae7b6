/**
 * The Kafka client a service runs on, chosen by KAFKA_CLIENT. Adapters live in their own folders
 * behind the port (`port.ts`); this module only picks one. Each adapter folder's index exports
 * `create<Name>Client(connection, logger): KafkaClient`; only the selected one is loaded, so an
 * adapter's library (e.g. an ESM-only one) is never required by services that do not use it.
 */
import { ErrorCodes, errorMessage, NextActError } from '../errors';
import type { Logger } from '../logger';
import type { KafkaClient, KafkaConnection } from './port';

export const kafkaAdapters = ['kafkajs', 'platformatic'] as const;
export type KafkaAdapterName = (typeof kafkaAdapters)[number];

type ClientFactory = (connection: KafkaConnection, logger: Logger) => KafkaClient;

const factories: Record<KafkaAdapterName, () => ClientFactory> = {
  kafkajs: () => (require('./kafkajs') as typeof import('./kafkajs')).createKafkajsClient,
  platformatic: () => (require('./platformatic') as typeof import('./platformatic')).createPlatformaticClient,
};

export function createKafkaClient(connection: KafkaConnection, logger: Logger, adapter: KafkaAdapterName = 'platformatic'): KafkaClient {
  let factory: ClientFactory;
  try {
    factory = factories[adapter]();
  } catch (err) {
    throw new NextActError(ErrorCodes.CONFIG_INVALID, `KAFKA_CLIENT=${adapter}: the adapter could not be loaded (${errorMessage(err)})`, { cause: err });
  }
  return factory(connection, logger);
}
