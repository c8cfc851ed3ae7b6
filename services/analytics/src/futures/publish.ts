/**
 * Publishes fitted models to `<prefix>models`: compacted, one partition (a global table: every
 * engine instance reads all of it), key = model version so compaction keeps every version and a
 * replay can apply them in stream-time order (`asOf`). Avro through the registry like every record.
 */
import { type Config, type CustomerFuturesModel, type KafkaClient, type RecordCodec, type TopicSpec, topicNames } from '@nextact/core';

export const MODEL_RECORD = 'nextact.CustomerFuturesModel' as const;

export const modelsTopic = (prefix: string): string => topicNames(prefix).models;

export function modelsTopicSpec(config: Pick<Config, 'topicPrefix' | 'replicationFactor'>): TopicSpec {
  return {
    name: modelsTopic(config.topicPrefix),
    partitions: 1,
    replicationFactor: config.replicationFactor,
    config: { 'cleanup.policy': 'compact', 'min.insync.replicas': String(Math.min(2, config.replicationFactor)) },
  };
}

export class ModelPublisher {
  private ready: Promise<void> | undefined;

  constructor(
    private readonly config: Pick<Config, 'topicPrefix' | 'replicationFactor'>,
    private readonly kafka: KafkaClient,
    private readonly codec: RecordCodec,
  ) {}

  get topic(): string {
    return modelsTopic(this.config.topicPrefix);
  }

  private provision(): Promise<void> {
    this.ready ??= (async () => {
      const admin = await this.kafka.admin();
      try {
        await admin.ensureTopics([modelsTopicSpec(this.config)]);
      } finally {
        await admin.close();
      }
      await this.codec.register([{ topic: this.topic, records: [MODEL_RECORD] }]);
    })().catch((err) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  /** Writes one model version; the record's timestamp is its `asOf`, the time it applies from. */
  async publish(model: CustomerFuturesModel): Promise<{ topic: string; partition: number; offset: string }> {
    await this.provision();
    const producer = await this.kafka.producer({ idempotent: true });
    try {
      const [position] = await producer.send([
        {
          topic: this.topic,
          key: model.version,
          value: this.codec.encode(this.topic, MODEL_RECORD, model),
          headers: { 'model-version': model.version, 'as-of': String(model.asOf) },
          timestamp: model.asOf,
        },
      ]);
      if (!position) throw new Error('no position for the published model');
      return position;
    } finally {
      await producer.close();
    }
  }
}
