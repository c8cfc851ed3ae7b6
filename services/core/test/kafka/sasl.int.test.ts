/**
 * Kafka SASL/SCRAM pass-through (issue 14, part 4): a broker of this test's own with a listener
 * that requires SCRAM-SHA-512. Both adapters, configured through the same settings the services
 * read (KAFKA_SASL_*), create a topic, produce and read back with the right credentials, and fail
 * with NXA_KAFKA_AUTH (not retriable, the broker's reason in the message) with wrong ones.
 */
import { randomBytes } from 'node:crypto';
import { type PrivateStack, privateStack } from '../../../../test/faults/support/private-stack';
import { type ConsumedRecord, ErrorCodes, errorCodeOf, isRetriable, kafkaAdapters, kafkaFromConfig, loadConfig, silentLogger } from '../../src';

jest.setTimeout(120_000);

const USER = 'nextact-app';
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;

let stack: PrivateStack;

beforeAll(async () => {
  stack = await privateStack('sasl', { registry: false, saslUsers: { [USER]: PASSWORD } });
}, 110_000);

afterAll(async () => {
  await stack?.remove();
});

function client(adapter: string, overrides: Record<string, string>) {
  const config = loadConfig({
    KAFKA_BROKERS: stack.env.KAFKA_SASL_BROKERS!,
    KAFKA_CLIENT: adapter,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: USER,
    KAFKA_SASL_PASSWORD: PASSWORD,
    ...overrides,
  });
  return kafkaFromConfig(config, silentLogger, `sasl-${adapter}`);
}

async function failure(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error('expected the broker to refuse the connection');
}

describe.each(kafkaAdapters)('SASL/SCRAM-SHA-512 with %s', (adapter) => {
  it('creates, produces and reads back with the right credentials', async () => {
    const kafka = client(adapter, {});
    const topic = `sasl-${adapter}-${randomBytes(3).toString('hex')}`;
    const admin = await kafka.admin();
    try {
      await admin.ensureTopics([{ name: topic, partitions: 1, replicationFactor: 1 }]);
      expect(await admin.listTopics()).toContain(topic);
    } finally {
      await admin.close();
    }
    const producer = await kafka.producer();
    try {
      await producer.send([{ topic, key: 'cust-1', value: Buffer.from('over SCRAM') }]);
    } finally {
      await producer.close();
    }
    const read: ConsumedRecord[] = [];
    await kafka.readPartitions(topic, [{ partition: 0, from: '0' }], (records) => {
      read.push(...records);
    });
    expect(read.map((r) => [r.key, r.value?.toString()])).toEqual([['cust-1', 'over SCRAM']]);
  });

  it.each([
    ['a wrong password', { KAFKA_SASL_PASSWORD: 'not-the-password' }],
    ['an unknown user', { KAFKA_SASL_USERNAME: 'mallory' }],
    ['a mechanism the listener does not offer', { KAFKA_SASL_MECHANISM: 'scram-sha-256' }],
  ])('refuses %s with NXA_KAFKA_AUTH, not retriable', async (_what, overrides) => {
    const kafka = client(adapter, overrides);
    const err = await failure(async () => {
      const admin = await kafka.admin();
      try {
        await admin.listTopics();
      } finally {
        await admin.close().catch(() => {});
      }
    });
    expect(errorCodeOf(err)).toBe(ErrorCodes.KAFKA_AUTH);
    expect(isRetriable(err)).toBe(false);
    expect((err as Error).message).toMatch(/SASL|authentication|mechanism/i);
    // The secret never appears in what an operator reads.
    expect((err as Error).message).not.toContain(PASSWORD);
  });

  it('refuses a producer with wrong credentials the same way', async () => {
    const kafka = client(adapter, { KAFKA_SASL_PASSWORD: 'not-the-password' });
    const err = await failure(async () => {
      const producer = await kafka.producer();
      try {
        await producer.send([{ topic: 'any', key: 'k', value: Buffer.from('v') }]);
      } finally {
        await producer.close().catch(() => {});
      }
    });
    expect(errorCodeOf(err)).toBe(ErrorCodes.KAFKA_AUTH);
    expect(isRetriable(err)).toBe(false);
  });
});

it('the plaintext listener of the same broker is not the SASL one (the test talks to the right port)', () => {
  expect(stack.env.KAFKA_SASL_BROKERS).toBeDefined();
  expect(stack.env.KAFKA_SASL_BROKERS).not.toBe(stack.env.KAFKA_BROKERS);
});
