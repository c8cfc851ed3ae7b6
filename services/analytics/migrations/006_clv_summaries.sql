-- Customer-futures inputs (BG/NBD + Gamma-Gamma, see docs/clv.md), as of a time.
-- Per customer with a first purchase before as_of, on UTC purchase days ("the customer's own time":
-- days since their first purchase day):
--   x          = repeat purchase days (purchase days after the first)
--   t_x        = days from the first purchase day to the last
--   T          = days from the first purchase day to as_of's day
--   mean_spend = mean revenue per repeat purchase day (the first day's orders left out, as the
--                Gamma-Gamma model describes repeat spend)
CREATE VIEW IF NOT EXISTS {{db}}.clv_customer_summaries AS
WITH days AS
(
    SELECT customer_id, toDate(event_time) AS day, sum(amount) AS amount
    FROM
    (
        SELECT customer_id, event_time, toInt64(ifNull(amount_minor, 0)) AS amount
        FROM {{db}}.events
        WHERE event_type = 'purchase' AND event_time < {as_of:DateTime64(3, 'UTC')}
        LIMIT 1 BY event_id
    )
    GROUP BY customer_id, day
)
SELECT
    customer_id,
    toUInt32(count() - 1)                                                        AS x,
    toUInt32(dateDiff('day', min(day), max(day)))                                AS t_x,
    toUInt32(dateDiff('day', min(day), toDate({as_of:DateTime64(3, 'UTC')})))    AS T,
    if(x > 0, (sum(amount) - argMin(amount, day)) / x, 0)                        AS mean_spend,
    sum(amount)                                                                  AS revenue_minor
FROM days
GROUP BY customer_id;

-- What happened in a holdout: purchase days and revenue per customer in [start, start + days).
CREATE VIEW IF NOT EXISTS {{db}}.clv_holdout AS
SELECT
    customer_id,
    toUInt32(uniqExact(toDate(event_time)))  AS purchases,
    sum(amount)                              AS revenue_minor
FROM
(
    SELECT customer_id, event_time, toInt64(ifNull(amount_minor, 0)) AS amount
    FROM {{db}}.events
    WHERE event_type = 'purchase'
      AND event_time >= {start:DateTime64(3, 'UTC')}
      AND event_time < {start:DateTime64(3, 'UTC')} + toIntervalDay({days:UInt32})
    LIMIT 1 BY event_id
)
GROUP BY customer_id;
