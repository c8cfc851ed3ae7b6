-- Daily aggregates kept by materialized views. The target tables carry a deduplication window
-- too: with deduplicate_blocks_in_dependent_materialized_views a retried source block is dropped
-- in the views as well, so the aggregates stay exactly-once.

CREATE TABLE IF NOT EXISTS {{db}}.decisions_daily
(
    day             Date,
    action_id       LowCardinality(String),
    channel         LowCardinality(String),
    journey_stage   LowCardinality(String),
    experiment_arm  LowCardinality(String),
    decisions       SimpleAggregateFunction(sum, UInt64),
    delivered       SimpleAggregateFunction(sum, UInt64),
    customers       AggregateFunction(uniq, String),
    avg_probability AggregateFunction(avg, Float64),
    avg_score       AggregateFunction(avg, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, action_id, channel, journey_stage, experiment_arm)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.decisions_daily_mv TO {{db}}.decisions_daily AS
SELECT
    toDate(event_time)          AS day,
    action_id,
    channel,
    journey_stage,
    experiment_arm,
    toUInt64(count())           AS decisions,
    toUInt64(countIf(deliver))  AS delivered,
    uniqState(customer_id)      AS customers,
    avgState(probability)       AS avg_probability,
    avgState(score)             AS avg_score
FROM {{db}}.decisions
GROUP BY day, action_id, channel, journey_stage, experiment_arm;

CREATE VIEW IF NOT EXISTS {{db}}.decisions_daily_v AS
SELECT
    day, action_id, channel, journey_stage, experiment_arm,
    sum(decisions)                AS decisions,
    sum(delivered)                AS delivered,
    uniqMerge(customers)          AS customers,
    avgMerge(avg_probability)     AS avg_probability,
    avgMerge(avg_score)           AS avg_score
FROM {{db}}.decisions_daily
GROUP BY day, action_id, channel, journey_stage, experiment_arm;

CREATE TABLE IF NOT EXISTS {{db}}.events_daily
(
    day          Date,
    event_type   LowCardinality(String),
    events       SimpleAggregateFunction(sum, UInt64),
    customers    AggregateFunction(uniq, String),
    amount_minor SimpleAggregateFunction(sum, Int64),
    value_minor  SimpleAggregateFunction(sum, Int64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, event_type)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.events_daily_mv TO {{db}}.events_daily AS
SELECT
    toDate(event_time)                     AS day,
    event_type,
    toUInt64(count())                      AS events,
    uniqState(customer_id)                 AS customers,
    toInt64(sum(ifNull(amount_minor, 0)))  AS amount_minor,
    toInt64(sum(ifNull(value_minor, 0)))   AS value_minor
FROM {{db}}.events
GROUP BY day, event_type;

CREATE VIEW IF NOT EXISTS {{db}}.events_daily_v AS
SELECT
    day, event_type,
    sum(events)          AS events,
    uniqMerge(customers) AS customers,
    sum(amount_minor)    AS amount_minor,
    sum(value_minor)     AS value_minor
FROM {{db}}.events_daily
GROUP BY day, event_type;
