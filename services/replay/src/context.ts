/** What every replay command runs against: configuration, the Kafka port, the registry codec. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  type Config,
  codecFromConfig,
  createLogger,
  type KafkaAdmin,
  type KafkaClient,
  kafkaFromConfig,
  type Logger,
  loadConfig,
  type RecordCodec,
  type TopicNames,
  topicNames,
} from '@nextact/core';
import { createNbaDomain, loadPolicy } from '@nextact/engine';

export interface ReplayContext {
  config: Config;
  kafka: KafkaClient;
  admin: KafkaAdmin;
  codec: RecordCodec;
  logger: Logger;
  topics: TopicNames;
  close(): Promise<void>;
}

export async function openContext(options: { env?: NodeJS.ProcessEnv; prefix?: string; logger?: Logger; kafka?: KafkaClient } = {}): Promise<ReplayContext> {
  const env = { ...(options.env ?? process.env) };
  if (options.prefix !== undefined) env.NEXTACT_TOPIC_PREFIX = options.prefix;
  const config = loadConfig(env);
  const logger = options.logger ?? createLogger({ level: config.logLevel, bindings: { service: 'replay' } });
  const kafka = options.kafka ?? kafkaFromConfig(config, logger, 'replay');
  const admin = await kafka.admin();
  const codec = codecFromConfig(config, logger);
  return { config, kafka, admin, codec, logger, topics: topicNames(config.topicPrefix), close: () => admin.close() };
}

/** A policy file as a domain, plus the digest of its text (part of a run's identity). Refuses a malformed file with file:line:col. */
export function policyDomain(file: string) {
  const policy = loadPolicy(file);
  const digest = createHash('sha256').update(readFileSync(file)).digest('hex');
  return { policy, domain: createNbaDomain(policy), digest };
}

export const digestOf = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');
