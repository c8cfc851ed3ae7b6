import { randomBytes } from 'node:crypto';
import { type Config, codecFromConfig, kafkaFromConfig, loadConfig, provision, silentLogger, topicSpecs } from '../src';

/** A config with a topic prefix of its own, so concurrent integration tests never share topics. */
export function testConfig(extra: Record<string, string> = {}): Config {
  return loadConfig({ ...process.env, NEXTACT_TOPIC_PREFIX: `test-${randomBytes(4).toString('hex')}.`, NEXTACT_PARTITIONS: '3', ...extra });
}

export async function provisioned(config: Config, name: string) {
  const kafka = kafkaFromConfig(config, silentLogger, name);
  const codec = codecFromConfig(config, silentLogger);
  await provision(config, kafka, codec, silentLogger);
  return {
    kafka,
    codec,
    async cleanup() {
      const admin = await kafka.admin();
      await admin.deleteTopics(topicSpecs(config).map((t) => t.name));
      await admin.close();
    },
  };
}
