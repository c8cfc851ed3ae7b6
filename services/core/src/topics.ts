import type { Config } from './config';
import { subjectFor, type TopicBinding } from './contracts/codec';
import { customerEventNames } from './contracts/records';
import type { TopicSpec } from './kafka/port';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Every topic NextAct owns. Customer-keyed topics share one partition count and Kafka's default
 * (murmur2) partitioner, so partition p of each holds the same customers (co-partitioning).
 */
export function topicNames(prefix: string) {
  return {
    /** All customer actions (browse, chat, purchase, survey, outcome, consent): one order per customer. */
    customerEvents: `${prefix}customer-events`,
    /** Next-best-action decisions for channel systems. */
    decisions: `${prefix}decisions`,
    /** Engine journey state, compacted: the durable copy of the local stores. */
    journeyChangelog: `${prefix}engine-journey-changelog`,
    /** Records that could not be decoded or processed, with the reason in headers. */
    deadLetter: `${prefix}dead-letter`,
    /** Fitted customer-futures models, compacted, key = version: a global table (analytics writes, engines read). */
    models: `${prefix}models`,
  };
}

export type TopicNames = ReturnType<typeof topicNames>;

export function topicSpecs(config: Pick<Config, 'topicPrefix' | 'partitions' | 'replicationFactor'>): TopicSpec[] {
  const names = topicNames(config.topicPrefix);
  const base = { partitions: config.partitions, replicationFactor: config.replicationFactor };
  const minIsr = String(Math.min(2, config.replicationFactor));
  return [
    // Long retention: replay and state rebuilds read history from here.
    { name: names.customerEvents, ...base, config: { 'retention.ms': String(90 * DAY_MS), 'min.insync.replicas': minIsr } },
    { name: names.decisions, ...base, config: { 'retention.ms': String(90 * DAY_MS), 'min.insync.replicas': minIsr } },
    {
      name: names.journeyChangelog,
      ...base,
      config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0', 'segment.ms': String(DAY_MS), 'min.insync.replicas': minIsr },
    },
    { name: names.deadLetter, ...base, config: { 'retention.ms': String(30 * DAY_MS), 'min.insync.replicas': minIsr } },
  ];
}

/** Which Avro records each topic carries, for schema registration. */
export function topicBindings(prefix: string): TopicBinding[] {
  const names = topicNames(prefix);
  return [
    { topic: names.customerEvents, records: customerEventNames },
    { topic: names.decisions, records: ['nextact.Decision'] },
    // Journey and learner state, registry-framed by the engine's runtime (the engine registers them too).
    { topic: names.journeyChangelog, records: ['nextact.Journey', 'nextact.Learner'] },
  ];
}

/**
 * Best effort: removes (soft, then hard delete) the registry subjects of every topic under a prefix,
 * so test and benchmark runs do not pile up in the registry. Failures are ignored.
 */
export async function deletePrefixSubjects(registryUrl: string, prefix: string): Promise<void> {
  for (const { topic, records } of topicBindings(prefix)) {
    for (const record of records) {
      const url = `${registryUrl}/subjects/${encodeURIComponent(subjectFor(topic, record))}`;
      await fetch(url, { method: 'DELETE' }).catch(() => undefined);
      await fetch(`${url}?permanent=true`, { method: 'DELETE' }).catch(() => undefined);
    }
  }
}
