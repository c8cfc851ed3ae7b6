/**
 * The runtime tests' stack on the in-memory Kafka adapter: the same `TestStack` the integration
 * tests use, with no broker and no registry, so the engine's assignment, reopen and fencing logic
 * runs as unit tests. The codec keeps the Confluent wire format with schema ids from a fixed table
 * (there is no registry to ask).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  avroType,
  type DecodedRecord,
  ErrorCodes,
  loadConfig,
  MemoryKafka,
  type MemoryKafkaOptions,
  NextActError,
  type RecordCodec,
  type RecordName,
  schemas,
  silentLogger,
  topicNames,
  topicSpecs,
} from '@nextact/core';
import type { TestStack } from './helpers';

const names = Object.keys(schemas) as RecordName[];

/** Avro in the Confluent wire format, schema id = the record's index in the generated table. */
export function memoryCodec(options: { beforeDecode?: () => Promise<void> } = {}): RecordCodec {
  const codec = {
    encode(_topic: string, record: RecordName, value: unknown): Buffer {
      const header = Buffer.alloc(5);
      header.writeInt32BE(names.indexOf(record) + 1, 1);
      return Buffer.concat([header, avroType(record).toBuffer(value)]);
    },
    async decode(buffer: Buffer | null): Promise<DecodedRecord> {
      await options.beforeDecode?.();
      if (!buffer || buffer.length < 5 || buffer.readUInt8(0) !== 0) throw new NextActError(ErrorCodes.DECODE, 'not the Confluent wire format');
      const name = names[buffer.readInt32BE(1) - 1];
      if (!name) throw new NextActError(ErrorCodes.DECODE, `unknown schema id ${buffer.readInt32BE(1)}`);
      return { name, schemaId: buffer.readInt32BE(1), value: avroType(name).fromBuffer(buffer.subarray(5)) } as DecodedRecord;
    },
    register: async () => new Map<string, number>(),
    schemaId: (_topic: string, record: RecordName) => names.indexOf(record) + 1,
  };
  return codec as unknown as RecordCodec;
}

export async function memoryStack(name: string, partitions: number, options: MemoryKafkaOptions = {}): Promise<TestStack & { cluster: MemoryKafka }> {
  const prefix = `mem-${name}.`;
  const env = { NEXTACT_TOPIC_PREFIX: prefix, NEXTACT_PARTITIONS: String(partitions) };
  const config = loadConfig(env);
  const cluster = new MemoryKafka(options);
  const kafka = cluster.client();
  const admin = await kafka.admin();
  await admin.ensureTopics(topicSpecs(config));
  await admin.close();
  const stateDir = mkdtempSync(join(tmpdir(), `nextact-engine-mem-${name}-`));
  return {
    prefix,
    env,
    config,
    logger: silentLogger,
    kafka,
    codec: memoryCodec(),
    topics: topicNames(prefix),
    stateDir,
    cluster,
    async cleanup() {
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
