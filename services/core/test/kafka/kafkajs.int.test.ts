import { testConfig } from '../../../../test/support/kit';
import { KAFKAJS_CAPABILITIES, silentLogger } from '../../src';
import { createKafkajsClient } from '../../src/kafka/kafkajs';
import { describeKafkaPort } from './conformance';

describeKafkaPort(
  'kafkajs on the local broker',
  () => {
    const config = testConfig('core');
    let n = 0;
    return {
      client: () => createKafkajsClient({ brokers: config.kafkaBrokers, clientId: `conformance-kafkajs-${++n}` }, silentLogger),
      sessionTimeoutMs: 6_000,
      settleMs: 30_000,
      close: async () => {},
    };
  },
  { capabilities: KAFKAJS_CAPABILITIES, timeoutMs: 90_000 },
);
