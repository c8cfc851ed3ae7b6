/**
 * The seam between the stateful runtime (Kafka, stores, transactions) and the decision domain
 * (journeys, policy, learning). The domain is pure and deterministic: given the same state and
 * the same record it returns the same result, which is what makes replay and crash recovery exact.
 * `decisionTime` (wall clock) is the only non-deterministic input and is only stamped, never used
 * to decide.
 */
import type { CustomerEvent, Decision, DecodedRecord, RecordName } from '@nextact/core';

/** What a customer event or timer did to one customer's journey and the partition's learner. */
export interface StepResult<J, L> {
  journey: J;
  learner: L;
  /** At most one decision per trigger. */
  decision?: Decision;
}

export interface DecisionDomain<J, L> {
  readonly policyVersion: string;
  initialJourney(customerId: string): J;
  initialLearner(): L;
  /**
   * True when the event leaves the customer with no journey (erasure). The runtime then deletes
   * the journey and its timer from the store and writes a tombstone (null value) to the changelog
   * in the event's transaction, so a restore or a compaction leaves nothing of the key; `onEvent`
   * is not called for it. Deleting a journey the store does not hold does nothing. Required, so a
   * domain that wraps another (replay's probes) cannot drop it unnoticed.
   */
  deletesJourney(journey: J | undefined, event: CustomerEvent): boolean;
  /** Applies a customer event (in partition order) that `deletesJourney` did not take. */
  onEvent(journey: J | undefined, learner: L, event: CustomerEvent, decisionTime: number): StepResult<J, L>;
  /** Event time at which this journey's next timer (e.g. inactivity) is due, if any. */
  nextTimer(journey: J): number | undefined;
  /** Fires a due timer. `at` is the stream time (max event time seen on the partition) that made it due. */
  onTimer(journey: J, learner: L, dueAt: number, decisionTime: number): StepResult<J, L>;
  /**
   * The Avro schemas (in schemas/) that `serialiseJourney` / `serialiseLearner` write. Given, the
   * runtime registers them for the changelog (BACKWARD_TRANSITIVE, like every other record) and
   * frames each value in the Confluent wire format, so any Confluent client reads the changelog;
   * the deserialisers then get the Avro body, or a value written before framing as it was. Absent,
   * the values go to the changelog as the domain encodes them.
   */
  readonly stateSchemas?: { journey: RecordName; learner: RecordName };
  serialiseJourney(journey: J): Buffer;
  deserialiseJourney(bytes: Buffer): J;
  serialiseLearner(learner: L): Buffer;
  deserialiseLearner(bytes: Buffer): L;
  /** Global tables the domain reads (runtime/global-table.ts): e.g. the customer-futures models. */
  sideInputs?: readonly SideInput[];
}

/**
 * A compacted topic every instance reads whole, in offset order, before processing any partition,
 * then follows in the background (every second). Not before each batch: that read (a ListOffsets
 * round trip per batch) cut engine_eps from 13k to 4.5k and put p99 latency at 1k events/s from
 * 0.3 s to 6.5 s (`npm run bench -- --only engine --scale 0.3`, 2026-12-02). The domain reads what
 * `apply` stored by event time only.
 */
export interface SideInput {
  /** For logs and metrics. */
  name: string;
  topic(prefix: string): string;
  /** One record, decoded through the registry; `value` null for a tombstone. Throwing skips the record (logged). */
  apply(record: { key: string | null; value: DecodedRecord | null; offset: string; timestamp: number }): void;
}
