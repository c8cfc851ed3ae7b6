-- Uplift per customer, not per decision. A held-out (CONTROL) customer is never contacted, so no
-- cooldown or contact cap stops the engine from deciding for them again and again, while a treated
-- customer is decided for about once; heavy browsers then dominate CONTROL and bias a per-decision
-- comparison. Intent-to-treat instead: each customer's first experiment decision per action and
-- stage (the arm is persistent per customer), and only decisions whose conversion window has closed
-- by the latest event seen, so late decisions do not count as non-conversions.
CREATE OR REPLACE VIEW {{db}}.uplift_inputs AS
WITH
    (SELECT max(event_time) FROM {{db}}.events) AS horizon,
    first_exposure AS
    (
        SELECT
            customer_id, action_id, journey_stage,
            argMin(experiment_arm, event_time) AS arm,
            argMin(converted, event_time)      AS converted
        FROM {{db}}.decision_outcomes(window_hours = {window_hours:UInt32})
        WHERE experiment_arm IN ('TREATMENT', 'CONTROL')
          AND event_time + toIntervalHour({window_hours:UInt32}) <= horizon
        GROUP BY customer_id, action_id, journey_stage
    )
SELECT
    action_id, journey_stage,
    countIf(arm = 'TREATMENT')                AS treatment_n,
    countIf(arm = 'TREATMENT' AND converted)  AS treatment_conversions,
    countIf(arm = 'CONTROL')                  AS control_n,
    countIf(arm = 'CONTROL' AND converted)    AS control_conversions
FROM first_exposure
GROUP BY action_id, journey_stage
HAVING treatment_n > 0 AND control_n > 0;
