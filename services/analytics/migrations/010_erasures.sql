-- The erasure record (right to be forgotten): who asked, when, and how many rows were removed.
-- One row per erasure request (its Kafka position is the request's place in the customer's order).
-- The sink also reads this table as the list of erased ids: rows of an erased id that arrive later
-- (late outcomes, decisions still in flight, a rebuild from the topics) are deleted as they land.
-- Numbered 010 to leave 006-009 to migrations being written beside it.
CREATE TABLE IF NOT EXISTS {{db}}.erasures
(
    erasure_id        String,
    customer_id       String,
    requested_by      String,
    reason            Nullable(String),
    source            LowCardinality(String),
    requested_at      DateTime64(3, 'UTC'),
    kafka_partition   UInt32,
    kafka_offset      UInt64,
    events_deleted    UInt64,
    decisions_deleted UInt64,
    erased_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (customer_id, erasure_id)
SETTINGS non_replicated_deduplication_window = 1000;
