/**
 * Customer data operations. `npm run customer -- forget ID [--by NAME] [--reason TEXT] [--id ERASURE_ID]`
 * writes an erasure request to the customer's own partition of the customer-events topic; the engine
 * and the analytics sink apply it there (see docs/security.md). Prints the request id and its
 * position as JSON once Kafka acknowledged it. Re-running with the same --id is harmless.
 */
import { userInfo } from 'node:os';
import { type Config, codecFromConfig, createLogger, errorMessage, kafkaFromConfig, loadConfig, provision, topicNames } from '@nextact/core';
import { erasureRecord, erasureRequest } from '@nextact/gateway';

const usage = 'usage: npm run customer -- forget CUSTOMER_ID [--by NAME] [--reason TEXT] [--id ERASURE_ID]';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value\n${usage}`);
  args.splice(i, 2);
  return value;
}

export async function forget(config: Config, customerId: string, requestedBy: string, reason: string | null, erasureId?: string) {
  const logger = createLogger({ level: config.logLevel === 'debug' ? 'debug' : 'warn', bindings: { tool: 'customer' } });
  const kafka = kafkaFromConfig(config, logger, 'customer-cli');
  const codec = codecFromConfig(config, logger);
  // Idempotent: creates topics and registers the ErasureRequest subject when this is the first one.
  await provision(config, kafka, codec, logger);
  const topic = topicNames(config.topicPrefix).customerEvents;
  const request = erasureRequest({ customerId, requestedBy, reason, source: 'cli', eventId: erasureId });
  const producer = await kafka.producer({ idempotent: true });
  try {
    const [position] = await producer.send([erasureRecord(codec, topic, request)]);
    return { erasureId: request.eventId, customerId, topic, partition: position?.partition, requestedBy: request.requestedBy };
  } finally {
    await producer.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const requestedBy = option(args, '--by') ?? `cli:${userInfo().username}`;
  const reason = option(args, '--reason') ?? null;
  const erasureId = option(args, '--id');
  const [command, customerId, ...rest] = args;
  if (command !== 'forget' || !customerId || rest.length > 0) throw new Error(usage);
  console.log(JSON.stringify(await forget(loadConfig(), customerId, requestedBy, reason, erasureId)));
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(errorMessage(err));
      process.exit(1);
    },
  );
}
