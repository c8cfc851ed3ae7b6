/** Kafka records to table rows: what fits each column, and why a record does not. */
import {
  type ConsumedRecord,
  type CustomerEventName,
  customerEventNames,
  customerEventTypes,
  type DeadLetterReason,
  type DecodedRecord,
  type RecordTypes,
} from '@nextact/core';
import { blankEventRow, type DecisionRow, type EventRow } from '../store/rows';

/** A record that does not fit its table; the message goes into the `dlq-error` header. */
export class UnfitRecord extends Error {
  constructor(
    readonly reason: DeadLetterReason,
    message: string,
  ) {
    super(message);
    this.name = 'UnfitRecord';
  }
}

/** `event_type` values: the short names of the customer-events records (browse, chat, ...). */
const eventTypeOf = new Map<string, string>(Object.entries(customerEventTypes).map(([kind, name]) => [name, kind]));

// DateTime64(3) holds 1900-01-01 .. 2299-12-31.
const MIN_TIME = Date.UTC(1900, 0, 1);
const MAX_TIME = Date.UTC(2299, 11, 31);

function time(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < MIN_TIME || value > MAX_TIME) {
    throw new UnfitRecord('unmappable', `${field}=${String(value)} is outside DateTime64(3)`);
  }
  return Math.trunc(value);
}

function smallUint(value: number | null, field: string): number | null {
  if (value === null) return null;
  if (!Number.isInteger(value) || value < 0 || value > 255) throw new UnfitRecord('unmappable', `${field}=${value} does not fit UInt8`);
  return value;
}

/** JSON has no NaN or Infinity: such a number would fail the whole insert, so it is refused here. */
function finite(value: number, field: string): number {
  if (!Number.isFinite(value)) throw new UnfitRecord('unmappable', `${field}=${value} is not a finite number`);
  return value;
}

const isCustomerEvent = (name: string): name is CustomerEventName => (customerEventNames as string[]).includes(name);

export function eventRow(decoded: DecodedRecord, record: ConsumedRecord): EventRow {
  if (!isCustomerEvent(decoded.name)) throw new UnfitRecord('unknown-record', `${decoded.name} does not belong on the customer-events topic`);
  const v = decoded.value as RecordTypes[CustomerEventName];
  keyIsCustomer(record, v.customerId);
  const row = blankEventRow({
    event_id: v.eventId,
    customer_id: v.customerId,
    event_type: eventTypeOf.get(decoded.name)!,
    event_time: time(v.eventTime, 'eventTime'),
    source: v.source,
    raw: JSON.stringify(v),
    kafka_partition: record.partition,
    kafka_offset: record.offset,
  });

  switch (decoded.name) {
    case 'nextact.BrowseEvent': {
      const b = decoded.value as RecordTypes['nextact.BrowseEvent'];
      row.browse_kind = b.kind;
      row.category = b.category;
      break;
    }
    case 'nextact.ChatEvent': {
      const c = decoded.value as RecordTypes['nextact.ChatEvent'];
      row.intent = c.intent;
      row.sentiment = finite(c.sentiment, 'sentiment');
      break;
    }
    case 'nextact.PurchaseEvent': {
      const p = decoded.value as RecordTypes['nextact.PurchaseEvent'];
      row.amount_minor = p.amountMinor;
      row.currency = p.currency;
      row.channel = p.channel;
      row.category = p.lineItems[0]?.category ?? null;
      break;
    }
    case 'nextact.SurveyResponse': {
      const s = decoded.value as RecordTypes['nextact.SurveyResponse'];
      row.nps = smallUint(s.nps, 'nps');
      row.csat = smallUint(s.csat, 'csat');
      row.decision_id = s.decisionId;
      break;
    }
    case 'nextact.ActionOutcome': {
      const o = decoded.value as RecordTypes['nextact.ActionOutcome'];
      row.decision_id = o.decisionId;
      row.action_id = o.actionId;
      row.channel = o.channel;
      row.outcome = o.outcome;
      row.value_minor = o.valueMinor;
      break;
    }
    case 'nextact.ConsentChange': {
      const c = decoded.value as RecordTypes['nextact.ConsentChange'];
      row.channel = c.channel;
      row.consent_granted = c.granted;
      break;
    }
  }
  return row;
}

/** Customer-keyed topics are co-partitioned by customer id: a record keyed otherwise is misrouted, not data. */
function keyIsCustomer(record: ConsumedRecord, customerId: string): void {
  if (record.key !== customerId) throw new UnfitRecord('key-mismatch', `record key ${JSON.stringify(record.key)} is not customerId ${customerId}`);
}

function probability(value: number, field: string): number {
  if (!(value >= 0 && value <= 1)) throw new UnfitRecord('unmappable', `${field}=${value} is not in [0, 1]`);
  return value;
}

export function decisionRow(decoded: DecodedRecord, record: ConsumedRecord): DecisionRow {
  if (decoded.name !== 'nextact.Decision') throw new UnfitRecord('unknown-record', `${decoded.name} does not belong on the decisions topic`);
  const d = decoded.value as RecordTypes['nextact.Decision'];
  keyIsCustomer(record, d.customerId);
  probability(d.probability, 'probability');
  return {
    decision_id: d.decisionId,
    customer_id: d.customerId,
    trigger_event_id: d.triggerEventId,
    trigger_type: d.triggerType,
    action_id: d.actionId,
    channel: d.channel,
    deliver: d.deliver,
    journey_stage: d.journeyStage,
    experiment_id: d.experimentId,
    experiment_arm: d.experimentArm,
    probability: d.probability,
    score: finite(d.score, 'score'),
    candidate_actions: d.candidates.map((c) => c.actionId),
    candidate_scores: d.candidates.map((c, i) => finite(c.score, `candidates[${i}].score`)),
    candidates: JSON.stringify(d.candidates),
    reason_codes: d.reasonCodes,
    policy_version: d.policyVersion,
    model_version: d.modelVersion ?? null,
    p_alive: d.pAlive == null ? null : probability(d.pAlive, 'pAlive'),
    predicted_clv_minor: d.predictedClvMinor == null ? null : finite(d.predictedClvMinor, 'predictedClvMinor'),
    event_time: time(d.eventTime, 'eventTime'),
    decision_time: time(d.decisionTime, 'decisionTime'),
    kafka_partition: record.partition,
    kafka_offset: record.offset,
  };
}
