/** The rows of the sink's tables (events, decisions), with the columns the migrations define. */

export type SinkTable = 'events' | 'decisions';

export interface EventRow {
  event_id: string;
  customer_id: string;
  event_type: string;
  event_time: number;
  source: string;
  amount_minor: number | null;
  currency: string | null;
  nps: number | null;
  csat: number | null;
  decision_id: string | null;
  action_id: string | null;
  channel: string | null;
  outcome: string | null;
  value_minor: number | null;
  intent: string | null;
  sentiment: number | null;
  browse_kind: string | null;
  category: string | null;
  consent_granted: boolean | null;
  raw: string;
  kafka_partition: number;
  kafka_offset: string;
}

export interface DecisionRow {
  decision_id: string;
  customer_id: string;
  trigger_event_id: string;
  trigger_type: string;
  action_id: string;
  channel: string;
  deliver: boolean;
  journey_stage: string;
  experiment_id: string | null;
  experiment_arm: string;
  probability: number;
  score: number;
  candidate_actions: string[];
  candidate_scores: number[];
  candidates: string;
  reason_codes: string[];
  policy_version: string;
  model_version: string | null;
  p_alive: number | null;
  predicted_clv_minor: number | null;
  event_time: number;
  decision_time: number;
  kafka_partition: number;
  kafka_offset: string;
}

/** An events row with every type-specific column empty; the event's own columns are filled after. */
export function blankEventRow(
  base: Pick<EventRow, 'event_id' | 'customer_id' | 'event_type' | 'event_time' | 'source' | 'raw' | 'kafka_partition' | 'kafka_offset'>,
): EventRow {
  return {
    ...base,
    amount_minor: null,
    currency: null,
    nps: null,
    csat: null,
    decision_id: null,
    action_id: null,
    channel: null,
    outcome: null,
    value_minor: null,
    intent: null,
    sentiment: null,
    browse_kind: null,
    category: null,
    consent_granted: null,
  };
}
