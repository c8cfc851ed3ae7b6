import { MemoryKafka } from '../../src';
import { describeKafkaPort } from './conformance';

// The default cluster, and the two kinds of client it can stand in for: one without KIP-447 and
// with eager rebalancing (as kafkajs), so the suite's capability gates are exercised both ways.
for (const options of [{}, { kip447: false, cooperativeRebalance: false }]) {
  const cluster = () => new MemoryKafka(options);
  const capabilities = new MemoryKafka(options).capabilities;
  describeKafkaPort(
    `memory ${JSON.stringify(options)}`,
    () => {
      const c = cluster();
      return { client: () => c.client(), settleMs: 5_000, close: async () => {} };
    },
    { capabilities, timeoutMs: 15_000 },
  );
}
