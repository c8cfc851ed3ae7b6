-- Timing experiments: CONTROL does not hold the action out but defers it (an EXPERIMENT_DEFERRED
-- decision, then a TIMER follow-up `followup:<deferral id>` that delivers it or is blocked by a
-- gate). Both arms deliver, so their answers can be compared; survey_decisions cannot, because the
-- arms' decisions sit in different stages and CONTROL has two decisions per customer.
--
-- Per experiment, action and arm, over delivered decisions: answered = the decision got a survey
-- naming it by decisionId within window_days of the decision's event time (the same time to
-- answer in both arms; the first such answer counts), with the answers' CSAT and NPS moments for a
-- difference of means in src/stats.ts. deferred and followups_blocked show CONTROL's attrition
-- between deferral and delivery (a blocked follow-up counts for the action that was deferred).
-- Listed only when both arms delivered the action and some answer arrived: a plain holdout's
-- CONTROL never delivers, and an experiment without answers is not a survey experiment.
CREATE OR REPLACE VIEW {{db}}.survey_experiment_answers AS
WITH
experiment_decisions AS
(
    SELECT decision_id, trigger_event_id, action_id, deliver, assumeNotNull(experiment_id) AS experiment_id,
           experiment_arm, reason_codes, event_time
    FROM {{db}}.decisions
    WHERE experiment_id IS NOT NULL AND experiment_arm IN ('TREATMENT', 'CONTROL')
    LIMIT 1 BY decision_id
),
deliveries AS
(
    SELECT decision_id, experiment_id, action_id, experiment_arm, event_time
    FROM experiment_decisions
    WHERE deliver
),
answers AS
(
    SELECT event_id, assumeNotNull(decision_id) AS decision_id, event_time, csat, nps
    FROM {{db}}.events
    WHERE event_type = 'survey' AND decision_id IS NOT NULL AND decision_id != ''
    LIMIT 1 BY event_id
),
first_answers AS
(
    SELECT a.decision_id AS decision_id, a.csat AS csat, a.nps AS nps
    FROM answers AS a
    INNER JOIN deliveries AS d ON d.decision_id = a.decision_id
    WHERE a.event_time <= d.event_time + toIntervalDay({window_days:UInt32})
    ORDER BY decision_id, a.event_time, a.event_id
    LIMIT 1 BY decision_id
),
blocked_follow_ups AS
(
    SELECT experiment_id, action_id, experiment_arm, substring(trigger_event_id, 10) AS deferral_id
    FROM experiment_decisions
    WHERE startsWith(trigger_event_id, 'followup:') AND NOT deliver
),
facts AS
(
    SELECT d.experiment_id AS experiment_id, d.action_id AS action_id, d.experiment_arm AS experiment_arm,
           'delivered' AS kind, toUInt8(f.decision_id != '') AS has_answer, f.csat AS csat, f.nps AS nps
    FROM deliveries AS d
    LEFT JOIN first_answers AS f ON f.decision_id = d.decision_id
    UNION ALL
    SELECT experiment_id, action_id, experiment_arm,
           'deferred', toUInt8(0), CAST(NULL, 'Nullable(UInt8)'), CAST(NULL, 'Nullable(UInt8)')
    FROM experiment_decisions
    WHERE arrayExists(code -> startsWith(code, 'EXPERIMENT_DEFERRED:'), reason_codes)
    UNION ALL
    SELECT b.experiment_id, if(s.decision_id != '', s.action_id, b.action_id), b.experiment_arm,
           'follow_up_blocked', toUInt8(0), CAST(NULL, 'Nullable(UInt8)'), CAST(NULL, 'Nullable(UInt8)')
    FROM blocked_follow_ups AS b
    LEFT JOIN experiment_decisions AS s ON s.decision_id = b.deferral_id
),
per_arm AS
(
    SELECT
        experiment_id, action_id, experiment_arm,
        countIf(kind = 'delivered')                                     AS delivered,
        countIf(has_answer = 1)                                         AS answered,
        if(delivered = 0, NULL, answered / delivered)                   AS response_rate,
        count(csat)                                                     AS csat_n,
        avgOrNull(csat)                                                 AS csat_mean,
        if(csat_n > 1, varSamp(csat), NULL)                             AS csat_var,
        count(nps)                                                      AS nps_n,
        avgOrNull(nps)                                                  AS nps_mean,
        if(nps_n > 1, varSamp(nps), NULL)                               AS nps_var,
        countIf(nps >= 9)                                               AS promoters,
        countIf(nps <= 6)                                               AS detractors,
        if(nps_n = 0, NULL, 100 * (promoters - detractors) / nps_n)     AS nps_score,
        countIf(kind = 'deferred')                                      AS deferred,
        countIf(kind = 'follow_up_blocked')                             AS followups_blocked
    FROM facts
    GROUP BY experiment_id, action_id, experiment_arm
)
SELECT *
FROM per_arm
WHERE (experiment_id, action_id) IN
(
    SELECT experiment_id, action_id
    FROM per_arm
    GROUP BY experiment_id, action_id
    HAVING countIf(experiment_arm = 'TREATMENT' AND delivered > 0) > 0
       AND countIf(experiment_arm = 'CONTROL' AND delivered > 0) > 0
       AND sum(answered) > 0
);
