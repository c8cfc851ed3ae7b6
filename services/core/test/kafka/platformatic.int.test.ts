import { testConfig } from '../../../../test/support/kit';
import { kafkaFromConfig, silentLogger } from '../../src';
import { createPlatformaticClient, PLATFORMATIC_CAPABILITIES } from '../../src/kafka/platformatic';
import { describeKafkaPort } from './conformance';

describeKafkaPort(
  '@platformatic/kafka on the local broker',
  () => {
    const config = testConfig('core');
    let n = 0;
    // Through the config path once, so the default adapter (KAFKA_CLIENT unset) is what is tested; then independent clients.
    const first = kafkaFromConfig(config, silentLogger, 'conformance');
    return {
      client: () => (n++ === 0 ? first : createPlatformaticClient({ brokers: config.kafkaBrokers, clientId: `conformance-platformatic-${n}` }, silentLogger)),
      sessionTimeoutMs: 6_000,
      settleMs: 30_000,
      close: async () => {},
    };
  },
  { capabilities: PLATFORMATIC_CAPABILITIES, timeoutMs: 90_000 },
);
