-- What the customer-futures model said when a decision was made (Decision.avsc modelVersion, pAlive,
-- predictedClvMinor): null where no model was in force, as on every decision written before them.
ALTER TABLE {{db}}.decisions ADD COLUMN IF NOT EXISTS model_version LowCardinality(Nullable(String)) AFTER policy_version;
ALTER TABLE {{db}}.decisions ADD COLUMN IF NOT EXISTS p_alive Nullable(Float64) AFTER model_version;
ALTER TABLE {{db}}.decisions ADD COLUMN IF NOT EXISTS predicted_clv_minor Nullable(Float64) AFTER p_alive;
