import { KAFKAJS_CAPABILITIES, kafkaFromConfig, silentLogger } from '../../src';
import { createKafkajsClient } from '../../src/kafka/kafkajs';
import { testConfig } from '../helpers';
import { describeKafkaPort } from './conformance';

describeKafkaPort(
  'kafkajs on the local broker',
  () => {
    const config = testConfig();
    const connection = { brokers: config.kafkaBrokers, clientId: 'conformance-kafkajs' };
    let n = 0;
    // Through the config path once, so the default adapter is what is tested; then independent clients.
    const first = kafkaFromConfig(config, silentLogger, 'conformance');
    return {
      client: () => (n++ === 0 ? first : createKafkajsClient({ ...connection, clientId: `conformance-kafkajs-${n}` }, silentLogger)),
      sessionTimeoutMs: 6_000,
      settleMs: 30_000,
      close: async () => {},
    };
  },
  { capabilities: KAFKAJS_CAPABILITIES, timeoutMs: 90_000 },
);
