import { ErrorCodes, NextActError } from './errors';
import { type KafkaAdapterName, kafkaAdapters } from './kafka/client';
import type { LogLevel } from './logger';

/**
 * The one place configuration is read. Every setting is an environment variable with a
 * documented default; `loadConfig` validates all of them at start and names each bad one.
 * README's configuration table is generated from `settings` (see scripts/config-table.ts).
 */

type Parse<T> = (raw: string) => T;

interface Setting<T> {
  env: string;
  doc: string;
  /** Raw default; undefined means "unset" and the parsed value is undefined. */
  fallback?: string;
  /** Human description of the accepted form, used in errors. */
  form: string;
  parse: Parse<T>;
  secret?: boolean;
}

class FormError extends Error {}

const str: Parse<string> = (raw) => {
  if (raw.trim() === '') throw new FormError('empty');
  return raw.trim();
};

const int =
  (min: number, max: number): Parse<number> =>
  (raw) => {
    if (!/^\d+$/.test(raw.trim())) throw new FormError(`not an integer`);
    const n = Number(raw);
    if (n < min || n > max) throw new FormError(`out of range ${min}..${max}`);
    return n;
  };

const bool: Parse<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new FormError('not a boolean');
};

const url: Parse<string> = (raw) => {
  let parsed: URL;
  try {
    parsed = new URL(raw.trim());
  } catch {
    throw new FormError('not a URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new FormError('not http(s)');
  return raw.trim().replace(/\/+$/, '');
};

const brokers: Parse<string[]> = (raw) => {
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw new FormError('empty');
  for (const b of list) if (!/^[A-Za-z0-9_.\-[\]:]+:\d{1,5}$/.test(b)) throw new FormError(`"${b}" is not host:port`);
  return list;
};

const oneOf =
  <T extends string>(...values: T[]): Parse<T> =>
  (raw) => {
    const v = raw.trim().toLowerCase() as T;
    if (!values.includes(v)) throw new FormError(`not one of ${values.join(', ')}`);
    return v;
  };

const withDefault = <T>(s: Setting<T> & { fallback: string }): Setting<T> & { fallback: string } => s;
const optional = <T>(s: Setting<T>): Setting<T> => s;

export const settings = {
  kafkaBrokers: withDefault({
    env: 'KAFKA_BROKERS',
    doc: 'Kafka bootstrap servers.',
    fallback: '127.0.0.1:9092',
    form: 'comma-separated host:port list',
    parse: brokers,
  }),
  kafkaClientId: withDefault({ env: 'KAFKA_CLIENT_ID', doc: 'Client id prefix sent to Kafka.', fallback: 'nextact', form: 'non-empty string', parse: str }),
  kafkaClient: withDefault({
    env: 'KAFKA_CLIENT',
    doc: 'Kafka client adapter. platformatic has KIP-447 (group-fenced transactional commits); kafkajs does not.',
    fallback: 'platformatic',
    form: 'kafkajs or platformatic',
    parse: oneOf<KafkaAdapterName>(...kafkaAdapters),
  }),
  kafkaSsl: withDefault({ env: 'KAFKA_SSL', doc: 'Use TLS to the brokers.', fallback: 'false', form: 'true or false', parse: bool }),
  kafkaSaslMechanism: optional({
    env: 'KAFKA_SASL_MECHANISM',
    doc: 'SASL mechanism; unset disables SASL.',
    form: 'plain, scram-sha-256 or scram-sha-512',
    parse: oneOf('plain', 'scram-sha-256', 'scram-sha-512'),
  }),
  kafkaSaslUsername: optional({ env: 'KAFKA_SASL_USERNAME', doc: 'SASL user name.', form: 'non-empty string', parse: str }),
  kafkaSaslPassword: optional({ env: 'KAFKA_SASL_PASSWORD', doc: 'SASL password.', form: 'non-empty string', parse: str, secret: true }),
  topicPrefix: withDefault({
    env: 'NEXTACT_TOPIC_PREFIX',
    doc: 'Prefix of every NextAct topic name.',
    fallback: 'nextact.',
    form: 'letters, digits, ".", "_" or "-"',
    parse: (raw: string) => {
      if (!/^[A-Za-z0-9._-]*$/.test(raw)) throw new FormError('has characters Kafka topic names refuse');
      return raw;
    },
  }),
  partitions: withDefault({
    env: 'NEXTACT_PARTITIONS',
    doc: 'Partitions of the customer-keyed topics (all co-partitioned).',
    fallback: '6',
    form: 'integer 1..1024',
    parse: int(1, 1024),
  }),
  replicationFactor: withDefault({
    env: 'NEXTACT_REPLICATION_FACTOR',
    doc: 'Replication factor of created topics.',
    fallback: '1',
    form: 'integer 1..10',
    parse: int(1, 10),
  }),
  schemaRegistryUrl: withDefault({
    env: 'SCHEMA_REGISTRY_URL',
    doc: 'Confluent-compatible schema registry base URL.',
    fallback: 'http://127.0.0.1:8081/apis/ccompat/v7',
    form: 'http(s) URL',
    parse: url,
  }),
  schemaRegistryUsername: optional({ env: 'SCHEMA_REGISTRY_USERNAME', doc: 'Registry basic-auth user.', form: 'non-empty string', parse: str }),
  schemaRegistryPassword: optional({
    env: 'SCHEMA_REGISTRY_PASSWORD',
    doc: 'Registry basic-auth password.',
    form: 'non-empty string',
    parse: str,
    secret: true,
  }),
  clickhouseUrl: optional({ env: 'CLICKHOUSE_URL', doc: 'ClickHouse server URL; unset uses embedded ClickHouse (chdb).', form: 'http(s) URL', parse: url }),
  clickhouseUser: withDefault({ env: 'CLICKHOUSE_USER', doc: 'ClickHouse user (server mode).', fallback: 'default', form: 'non-empty string', parse: str }),
  clickhousePassword: optional({ env: 'CLICKHOUSE_PASSWORD', doc: 'ClickHouse password (server mode).', form: 'non-empty string', parse: str, secret: true }),
  clickhouseDatabase: withDefault({
    env: 'CLICKHOUSE_DATABASE',
    doc: 'ClickHouse database.',
    fallback: 'nextact',
    form: 'identifier',
    parse: (raw: string) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw)) throw new FormError('not an identifier');
      return raw;
    },
  }),
  chdbPath: withDefault({
    env: 'CHDB_PATH',
    doc: 'Data folder of embedded ClickHouse (one process per folder).',
    fallback: '.stack/data/chdb',
    form: 'path',
    parse: str,
  }),
  httpHost: withDefault({
    env: 'HTTP_HOST',
    doc: 'Interface every service listens on; loopback unless you mean it.',
    fallback: '127.0.0.1',
    form: 'IP address or host name',
    parse: str,
  }),
  gatewayPort: withDefault({
    env: 'GATEWAY_PORT',
    doc: 'Ingest gateway HTTP port (API and ops).',
    fallback: '8088',
    form: 'port 0..65535',
    parse: int(0, 65535),
  }),
  enginePort: withDefault({ env: 'ENGINE_PORT', doc: 'Decision engine ops HTTP port.', fallback: '9101', form: 'port 0..65535', parse: int(0, 65535) }),
  analyticsPort: withDefault({
    env: 'ANALYTICS_PORT',
    doc: 'Analytics service HTTP port (reports and ops).',
    fallback: '9102',
    form: 'port 0..65535',
    parse: int(0, 65535),
  }),
  simulatorPort: withDefault({ env: 'SIMULATOR_PORT', doc: 'Simulator ops HTTP port.', fallback: '9103', form: 'port 0..65535', parse: int(0, 65535) }),
  gatewayToken: optional({
    env: 'GATEWAY_AUTH_TOKEN',
    doc: 'Bearer token required by POST /v1/events; unset disables auth.',
    form: 'at least 16 characters',
    parse: (raw: string) => {
      if (raw.length < 16) throw new FormError('shorter than 16 characters');
      return raw;
    },
    secret: true,
  }),
  gatewayAdminToken: optional({
    env: 'GATEWAY_ADMIN_TOKEN',
    doc: 'Bearer token required by the erasure endpoint (POST /v1/customers/{id}/erasure); unset disables that endpoint.',
    form: 'at least 16 characters',
    parse: (raw: string) => {
      if (raw.length < 16) throw new FormError('shorter than 16 characters');
      return raw;
    },
    secret: true,
  }),
  analyticsToken: optional({
    env: 'ANALYTICS_AUTH_TOKEN',
    doc: 'Bearer token required by the analytics reports (JSON and HTML); unset disables auth.',
    form: 'at least 16 characters',
    parse: (raw: string) => {
      if (raw.length < 16) throw new FormError('shorter than 16 characters');
      return raw;
    },
    secret: true,
  }),
  httpRateLimit: withDefault({
    env: 'HTTP_RATE_LIMIT',
    doc: 'API requests per second allowed per client address (ops endpoints excepted), bursts up to twice that; over it gets 429; 0 disables.',
    fallback: '2000',
    form: 'integer 0..1000000',
    parse: int(0, 1_000_000),
  }),
  gatewayMaxBodyBytes: withDefault({
    env: 'GATEWAY_MAX_BODY_BYTES',
    doc: 'Largest accepted request body; larger gets 413.',
    fallback: '1048576',
    form: 'integer 1024..67108864',
    parse: int(1024, 64 * 1024 * 1024),
  }),
  gatewayMaxBatch: withDefault({
    env: 'GATEWAY_MAX_BATCH',
    doc: 'Most events in one request.',
    fallback: '1000',
    form: 'integer 1..100000',
    parse: int(1, 100_000),
  }),
  gatewayMaxInFlight: withDefault({
    env: 'GATEWAY_MAX_IN_FLIGHT',
    doc: 'Events awaiting broker acks before the gateway answers 503.',
    fallback: '20000',
    form: 'integer 1..10000000',
    parse: int(1, 10_000_000),
  }),
  engineGroupId: optional({
    env: 'ENGINE_GROUP_ID',
    doc: 'Consumer group of the engine instances (also prefixes transactional ids); default `<prefix>engine`.',
    form: 'letters, digits, ".", "_" or "-"',
    parse: (raw: string) => {
      if (!/^[A-Za-z0-9._-]+$/.test(raw)) throw new FormError('has characters group ids refuse');
      return raw;
    },
  }),
  engineInstanceId: optional({
    env: 'ENGINE_INSTANCE_ID',
    doc: 'Name of this engine instance in logs; default `<host>-<pid>`.',
    form: 'non-empty string',
    parse: str,
  }),
  engineStore: withDefault({
    env: 'ENGINE_STORE',
    doc: "Where a partition's journeys live: memory (a restart restores the whole changelog) or lmdb (on disk in ENGINE_STATE_DIR with the changelog offset it reflects, so a restart replays only the tail; the heap holds a bounded cache). See docs/stores.md.",
    fallback: 'memory',
    form: 'memory or lmdb',
    parse: oneOf('memory', 'lmdb'),
  }),
  engineStateDir: withDefault({
    env: 'ENGINE_STATE_DIR',
    doc: 'Folder of the lmdb stores (`<group>/<partition>/`); `off` for none (then ENGINE_STORE=lmdb is refused).',
    fallback: '.stack/data/engine',
    form: 'path or off',
    parse: str,
  }),
  engineCheckpointIntervalMs: withDefault({
    env: 'ENGINE_CHECKPOINT_INTERVAL_MS',
    doc: 'lmdb store: least time between moves of the changelog offset stored with its contents (each move reads the changelog end); a restart replays about this much of the changelog.',
    fallback: '1000',
    form: 'integer 0..86400000',
    parse: int(0, 86_400_000),
  }),
  engineConcurrency: optional({
    env: 'ENGINE_CONCURRENCY',
    doc: 'Partitions processed in parallel per engine instance; default min(partitions, 8).',
    form: 'integer 1..1024',
    parse: int(1, 1024),
  }),
  engineIdleAdvanceMs: optional({
    env: 'ENGINE_IDLE_ADVANCE_MS',
    doc: 'Off when unset: timers run on stream time, which only input moves. Set, a partition without input for this long moves its stream time to the wall clock minus this much, so timers (inactivity, deferred follow-ups) fire on quiet partitions; events that arrive later with older times are applied after those timers, which a replay does not reproduce.',
    form: 'integer 1000..86400000',
    parse: int(1_000, 86_400_000),
  }),
  engineSessionTimeoutMs: withDefault({
    env: 'ENGINE_SESSION_TIMEOUT_MS',
    doc: 'Engine consumer group session timeout.',
    fallback: '10000',
    form: 'integer 6000..300000',
    parse: int(6_000, 300_000),
  }),
  engineCommitIntervalMs: withDefault({
    env: 'ENGINE_COMMIT_INTERVAL_MS',
    doc: 'Exactly-once v2: how often the instance transaction commits.',
    fallback: '100',
    form: 'integer 1..60000',
    parse: int(1, 60_000),
  }),
  engineCommitMaxRecords: withDefault({
    env: 'ENGINE_COMMIT_MAX_RECORDS',
    doc: 'Exactly-once v2: the instance transaction commits early once this many output records wait.',
    fallback: '5000',
    form: 'integer 1..1000000',
    parse: int(1, 1_000_000),
  }),
  policyFile: withDefault({
    env: 'POLICY_FILE',
    doc: 'Decision policy loaded by the engine at start.',
    fallback: 'services/engine/policy/policy.yaml',
    form: 'path',
    parse: str,
  }),
  sinkMaxRows: withDefault({
    env: 'ANALYTICS_SINK_MAX_ROWS',
    doc: 'Most rows in one ClickHouse insert (one batch per partition offset range).',
    fallback: '10000',
    form: 'integer 1..1000000',
    parse: int(1, 1_000_000),
  }),
  sinkMaxWaitMs: withDefault({
    env: 'ANALYTICS_SINK_MAX_WAIT_MS',
    doc: 'Longest a partial batch waits before it is inserted.',
    fallback: '1000',
    form: 'integer 10..600000',
    parse: int(10, 600_000),
  }),
  clvFitMinutes: withDefault({
    env: 'ANALYTICS_CLV_FIT_MINUTES',
    doc: 'Minutes between scheduled CLV model fits, each published to the models topic; 0 = only on demand.',
    fallback: '60',
    form: 'integer 0..10080',
    parse: int(0, 10_080),
  }),
  eventTimeMaxSkewMs: withDefault({
    env: 'EVENT_TIME_MAX_SKEW_MS',
    doc: 'How far past the current time an event time may lie (clock skew); history back to 1970 is accepted.',
    fallback: '86400000',
    form: 'integer 0..31536000000',
    parse: int(0, 31_536_000_000),
  }),
  logLevel: withDefault({
    env: 'LOG_LEVEL',
    doc: 'debug, info, warn or error.',
    fallback: 'info',
    form: 'debug, info, warn or error',
    parse: oneOf<LogLevel>('debug', 'info', 'warn', 'error'),
  }),
} as const;

type Settings = typeof settings;
export type Config = {
  [K in keyof Settings]: Settings[K] extends Setting<infer T> ? (Settings[K] extends { fallback: string } ? T : T | undefined) : never;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, s] of Object.entries(settings) as [string, Setting<unknown>][]) {
    const raw = env[s.env] ?? s.fallback;
    if (raw === undefined || raw === '') {
      out[key] = undefined;
      continue;
    }
    try {
      out[key] = s.parse(raw);
    } catch (err) {
      const shown = s.secret ? '(hidden)' : JSON.stringify(raw);
      problems.push(`${s.env}=${shown} is invalid: ${(err as Error).message}; expected ${s.form}`);
    }
  }
  const config = out as Config;
  if (config.kafkaSaslMechanism && (!config.kafkaSaslUsername || !config.kafkaSaslPassword)) {
    problems.push('KAFKA_SASL_MECHANISM is set, so KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required');
  }
  if (problems.length > 0) {
    throw new NextActError(ErrorCodes.CONFIG_INVALID, `Invalid configuration:\n  ${problems.join('\n  ')}`, { details: problems });
  }
  return config;
}

/** Markdown table of all settings, for README. */
export function configTable(): string {
  const rows = Object.values(settings).map(
    (s: Setting<unknown>) => `| \`${s.env}\` | ${s.fallback === undefined ? '(unset)' : `\`${s.fallback}\``} | ${s.form} | ${s.doc} |`,
  );
  return ['| Variable | Default | Form | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}
