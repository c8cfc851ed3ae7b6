/**
 * The Kafka client a service runs on, chosen by KAFKA_CLIENT. Adapters live in their own folders
 * behind the port (`port.ts`); this module only picks one.
 */
import type { Logger } from '../logger';
import { createKafkajsClient } from './kafkajs';
import type { KafkaClient, KafkaConnection } from './port';

export const kafkaAdapters = ['kafkajs'] as const;
export type KafkaAdapterName = (typeof kafkaAdapters)[number];

export function createKafkaClient(connection: KafkaConnection, logger: Logger, adapter: KafkaAdapterName = 'kafkajs'): KafkaClient {
  switch (adapter) {
    case 'kafkajs':
      return createKafkajsClient(connection, logger);
  }
}
