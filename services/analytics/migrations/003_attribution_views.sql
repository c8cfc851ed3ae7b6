-- Attribution views. Parameterised views (`SELECT * FROM v(window_hours = 72)`) keep the windows
-- in the caller's hands. `LIMIT 1 BY <id>` is a second line of defence against duplicates: the
-- sink's deduplication tokens are what prevent them.

-- Every decision with its outcome: converted = a purchase or a CONVERTED outcome by the same
-- customer within window_hours after the decision's event time. revenue = purchase amounts in the
-- window, or the CONVERTED outcomes' value when the window holds no purchase.
CREATE VIEW IF NOT EXISTS {{db}}.decision_outcomes AS
WITH conversions AS
(
    SELECT customer_id, event_time, event_type,
           toInt64(ifNull(if(event_type = 'purchase', amount_minor, value_minor), 0)) AS revenue
    FROM {{db}}.events
    WHERE event_type = 'purchase' OR (event_type = 'outcome' AND outcome = 'CONVERTED')
    LIMIT 1 BY event_id
),
unique_decisions AS
(
    SELECT * FROM {{db}}.decisions LIMIT 1 BY decision_id
)
SELECT
    d.decision_id                       AS decision_id,
    any(d.customer_id)                  AS customer_id,
    any(d.action_id)                    AS action_id,
    any(d.channel)                      AS channel,
    any(d.journey_stage)                AS journey_stage,
    any(d.experiment_id)                AS experiment_id,
    any(d.experiment_arm)               AS experiment_arm,
    any(d.deliver)                      AS deliver,
    any(d.probability)                  AS probability,
    any(d.policy_version)               AS policy_version,
    any(d.event_time)                   AS event_time,
    countIf(c.event_time > d.event_time AND c.event_time <= d.event_time + toIntervalHour({window_hours:UInt32})) > 0 AS converted,
    sumIf(c.revenue, c.event_type = 'purchase' AND c.event_time > d.event_time AND c.event_time <= d.event_time + toIntervalHour({window_hours:UInt32})) AS purchase_revenue,
    sumIf(c.revenue, c.event_type = 'outcome' AND c.event_time > d.event_time AND c.event_time <= d.event_time + toIntervalHour({window_hours:UInt32})) AS outcome_revenue,
    if(purchase_revenue > 0, purchase_revenue, outcome_revenue) AS revenue_minor
FROM unique_decisions AS d
LEFT JOIN conversions AS c ON c.customer_id = d.customer_id
GROUP BY d.decision_id;

-- Decisions, deliveries, conversions and revenue per action, channel, journey stage and arm.
CREATE VIEW IF NOT EXISTS {{db}}.attribution_by_segment AS
SELECT
    action_id, channel, journey_stage, experiment_arm,
    count()                         AS decisions,
    countIf(deliver)                AS deliveries,
    countIf(converted)              AS conversions,
    sum(revenue_minor)              AS revenue_minor,
    countIf(converted) / count()    AS conversion_rate
FROM {{db}}.decision_outcomes(window_hours = {window_hours:UInt32})
GROUP BY action_id, channel, journey_stage, experiment_arm;

-- Counts per action and stage for TREATMENT versus CONTROL; uplift and its interval are computed
-- from these (difference of proportions, normal approximation) in src/stats.ts.
CREATE VIEW IF NOT EXISTS {{db}}.uplift_inputs AS
SELECT
    action_id, journey_stage,
    countIf(experiment_arm = 'TREATMENT')                AS treatment_n,
    countIf(experiment_arm = 'TREATMENT' AND converted)  AS treatment_conversions,
    countIf(experiment_arm = 'CONTROL')                  AS control_n,
    countIf(experiment_arm = 'CONTROL' AND converted)    AS control_conversions
FROM {{db}}.decision_outcomes(window_hours = {window_hours:UInt32})
WHERE experiment_arm IN ('TREATMENT', 'CONTROL')
GROUP BY action_id, journey_stage
HAVING treatment_n > 0 AND control_n > 0;

-- Customer value as of a time, over the trailing window_days:
--   realised_minor  = purchase revenue in the window
--   predicted_minor = AOV x purchase frequency (orders/day over the customer's tenure in the window)
--                     x horizon_days x p_alive, with p_alive = exp(-recency / mean inter-purchase gap)
--                     (exponential gaps: the chance that a customer buying every `gap` days on
--                     average has gone `recency` days without buying while still active).
CREATE VIEW IF NOT EXISTS {{db}}.customer_value AS
WITH purchases AS
(
    SELECT customer_id, event_time, toInt64(ifNull(amount_minor, 0)) AS amount
    FROM {{db}}.events
    WHERE event_type = 'purchase'
      AND event_time <= {as_of:DateTime64(3, 'UTC')}
      AND event_time > {as_of:DateTime64(3, 'UTC')} - toIntervalDay({window_days:UInt32})
    LIMIT 1 BY event_id
)
SELECT
    customer_id,
    count()                                                                      AS orders,
    sum(amount)                                                                  AS realised_minor,
    realised_minor / orders                                                      AS aov_minor,
    greatest(dateDiff('second', min(event_time), {as_of:DateTime64(3, 'UTC')}) / 86400, 1) AS tenure_days,
    dateDiff('second', max(event_time), {as_of:DateTime64(3, 'UTC')}) / 86400    AS recency_days,
    if(orders > 1, greatest(dateDiff('second', min(event_time), max(event_time)) / 86400 / (orders - 1), 1), tenure_days) AS mean_gap_days,
    orders / tenure_days                                                         AS orders_per_day,
    exp(-recency_days / mean_gap_days)                                           AS p_alive,
    aov_minor * orders_per_day * {horizon_days:UInt32} * p_alive                 AS predicted_minor
FROM purchases
GROUP BY customer_id;

-- Revenue in the attribution_days after each customer's first experiment decision for an action,
-- summarised per action, stage and arm: the realised CLV change attributable to the action is
-- mean(TREATMENT) - mean(CONTROL) (difference of means, Welch interval in src/stats.ts).
CREATE VIEW IF NOT EXISTS {{db}}.clv_attribution_inputs AS
WITH firsts AS
(
    SELECT customer_id, action_id,
           argMin(experiment_arm, event_time) AS arm,
           argMin(journey_stage, event_time)  AS journey_stage,
           min(event_time)                    AS first_time
    FROM (SELECT * FROM {{db}}.decisions LIMIT 1 BY decision_id)
    WHERE experiment_arm IN ('TREATMENT', 'CONTROL')
    GROUP BY customer_id, action_id
),
purchases AS
(
    SELECT customer_id, event_time, toInt64(ifNull(amount_minor, 0)) AS amount
    FROM {{db}}.events WHERE event_type = 'purchase' LIMIT 1 BY event_id
),
per_customer AS
(
    SELECT f.customer_id AS customer_id, f.action_id AS action_id, f.arm AS arm, f.journey_stage AS journey_stage,
           sumIf(p.amount, p.event_time > f.first_time AND p.event_time <= f.first_time + toIntervalDay({attribution_days:UInt32})) AS revenue
    FROM firsts AS f
    LEFT JOIN purchases AS p ON p.customer_id = f.customer_id
    GROUP BY f.customer_id, f.action_id, f.arm, f.journey_stage
)
SELECT action_id, journey_stage, arm,
       count()              AS customers,
       avg(revenue)         AS mean_revenue_minor,
       varSamp(revenue)     AS var_revenue
FROM per_customer
GROUP BY action_id, journey_stage, arm;

-- Each survey joined to the decision it is about: the survey's decisionId when it names a known
-- decision, else the customer's latest decision at or before the survey within window_days (ASOF).
CREATE VIEW IF NOT EXISTS {{db}}.survey_decisions AS
WITH surveys AS
(
    SELECT event_id, customer_id, event_time, nps, csat, decision_id
    FROM {{db}}.events WHERE event_type = 'survey' LIMIT 1 BY event_id
),
unique_decisions AS
(
    SELECT decision_id, customer_id, event_time, action_id, journey_stage, experiment_arm
    FROM {{db}}.decisions LIMIT 1 BY decision_id
)
SELECT
    s.event_id AS survey_event_id,
    s.customer_id AS customer_id,
    s.event_time AS survey_time,
    s.nps AS nps,
    s.csat AS csat,
    multiIf(byid.decision_id != '', 'decision_id',
            prev.decision_id != '' AND prev.event_time >= s.event_time - toIntervalDay({window_days:UInt32}), 'asof',
            'none') AS joined_by,
    multiIf(joined_by = 'decision_id', byid.decision_id, joined_by = 'asof', prev.decision_id, '')                  AS decision_id,
    multiIf(joined_by = 'decision_id', byid.action_id, joined_by = 'asof', prev.action_id, '(none)')               AS action_id,
    multiIf(joined_by = 'decision_id', byid.journey_stage, joined_by = 'asof', prev.journey_stage, '(none)')       AS journey_stage,
    multiIf(joined_by = 'decision_id', byid.experiment_arm, joined_by = 'asof', prev.experiment_arm, '(none)')     AS experiment_arm
FROM surveys AS s
LEFT JOIN unique_decisions AS byid ON byid.decision_id = s.decision_id
ASOF LEFT JOIN unique_decisions AS prev ON prev.customer_id = s.customer_id AND s.event_time >= prev.event_time;

-- NPS (% promoters 9-10 minus % detractors 0-6) and CSAT (mean, share of 4-5) per stage, action, arm.
CREATE VIEW IF NOT EXISTS {{db}}.satisfaction_by_segment AS
SELECT
    journey_stage, action_id, experiment_arm,
    count()                                 AS responses,
    count(nps)                              AS nps_responses,
    countIf(nps >= 9)                       AS promoters,
    countIf(nps <= 6)                       AS detractors,
    if(nps_responses = 0, NULL, 100 * (promoters - detractors) / nps_responses) AS nps_score,
    count(csat)                             AS csat_responses,
    avgOrNull(csat)                         AS csat_mean,
    if(csat_responses = 0, NULL, countIf(csat >= 4) / csat_responses) AS csat_top2_share
FROM {{db}}.survey_decisions(window_days = {window_days:UInt32})
GROUP BY journey_stage, action_id, experiment_arm;

-- Sufficient statistics for off-policy evaluation per (stage, action) over executed decisions
-- (CONTROL decisions were logged but not acted on, so they are not samples of the logging policy).
-- With w = pi(a|stage) / p and r = converted: IPS = sum(w r) / n, SNIPS = sum(w r) / sum(w).
CREATE VIEW IF NOT EXISTS {{db}}.ope_inputs AS
SELECT
    journey_stage, action_id,
    count()                                   AS n,
    countIf(converted)                        AS rewards,
    sum(1 / probability)                      AS sum_inv_p,
    sum(converted / probability)              AS sum_r_inv_p,
    sum(1 / (probability * probability))      AS sum_inv_p2,
    sum(converted / (probability * probability)) AS sum_r_inv_p2
FROM {{db}}.decision_outcomes(window_hours = {window_hours:UInt32})
WHERE experiment_arm != 'CONTROL' AND probability > 0
GROUP BY journey_stage, action_id;
