-- Raw tables, one row per Kafka record. Monthly partitions on event time; LowCardinality for the
-- small vocabularies. The deduplication window makes a repeated insert with the same
-- insert_deduplication_token a no-op: that is how the sink turns retries into exactly-once.

CREATE TABLE IF NOT EXISTS {{db}}.events
(
    event_id        String,
    customer_id     String,
    event_type      LowCardinality(String),
    event_time      DateTime64(3, 'UTC'),
    source          LowCardinality(String),
    amount_minor    Nullable(Int64),
    currency        LowCardinality(Nullable(String)),
    nps             Nullable(UInt8),
    csat            Nullable(UInt8),
    decision_id     Nullable(String),
    action_id       LowCardinality(Nullable(String)),
    channel         LowCardinality(Nullable(String)),
    outcome         LowCardinality(Nullable(String)),
    value_minor     Nullable(Int64),
    intent          LowCardinality(Nullable(String)),
    sentiment       Nullable(Float32),
    browse_kind     LowCardinality(Nullable(String)),
    category        LowCardinality(Nullable(String)),
    consent_granted Nullable(Bool),
    raw             String CODEC(ZSTD(3)),
    kafka_partition UInt32,
    kafka_offset    UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY (customer_id, event_time, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {{db}}.decisions
(
    decision_id       String,
    customer_id       String,
    trigger_event_id  String,
    trigger_type      LowCardinality(String),
    action_id         LowCardinality(String),
    channel           LowCardinality(String),
    deliver           Bool,
    journey_stage     LowCardinality(String),
    experiment_id     LowCardinality(Nullable(String)),
    experiment_arm    LowCardinality(String),
    probability       Float64,
    score             Float64,
    candidate_actions Array(LowCardinality(String)),
    candidate_scores  Array(Float64),
    candidates        String CODEC(ZSTD(3)),
    reason_codes      Array(LowCardinality(String)),
    policy_version    LowCardinality(String),
    event_time        DateTime64(3, 'UTC'),
    decision_time     DateTime64(3, 'UTC'),
    kafka_partition   UInt32,
    kafka_offset      UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY (customer_id, event_time, decision_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- The sink's write-ahead record per topic-partition batch (BEFORE the insert, AFTER it was
-- acknowledged). version = 2 * max_offset + (AFTER ? 1 : 0) orders states without trusting clocks.
-- No deduplication here: every state write must land.
CREATE TABLE IF NOT EXISTS {{db}}.sink_state
(
    consumer_group String,
    topic          String,
    partition      UInt32,
    min_offset     UInt64,
    max_offset     UInt64,
    state          Enum8('BEFORE' = 1, 'AFTER' = 2),
    rows           UInt32,
    version        UInt64,
    recorded_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (consumer_group, topic, partition, version)
SETTINGS non_replicated_deduplication_window = 0;
