import { MemoryKafka } from '../../src';
import { describeKafkaPort } from './conformance';

// The default cluster, and the kinds of client it can stand in for: without KIP-447, eager and
// learning revocation after the join (as kafkajs), and the same with KIP-447 (as platformatic), so
// the suite's capability gates are exercised both ways.
for (const options of [
  {},
  { kip447: false, cooperativeRebalance: false, revokeBeforeReassign: false },
  { kip447: true, cooperativeRebalance: false, revokeBeforeReassign: false },
]) {
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
