/**
 * The changelog encoding of journey and learner state: Avro binary with schemas/Journey.avsc and
 * schemas/Learner.avsc (a standard Confluent deserializer reads it once the runtime frames it with
 * the registry id). State written by engines before version 2, as JSON, is still read: a JSON
 * record starts with `{`, an Avro one with its version (0x04 for 2), so the two never mix up.
 */
import { avroType, ErrorCodes, NextActError } from '@nextact/core';
import { LEARNER_SCHEMA_VERSION, type LearnerState } from '../policy/learner';
import { fromV1, JOURNEY_SCHEMA_VERSION, type JourneyState, type JourneyStateV1, shareStrings } from './state';

type Type = ReturnType<typeof avroType>;
const JSON_OPEN_BRACE = 0x7b;

let scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * One encoding pass into a shared buffer that grows on demand, then one copy out. (avsc's toBuffer
 * writes into a fixed 1 KiB buffer and encodes a second time whenever a record is larger.)
 */
function encode(type: Type, value: unknown): Buffer {
  let end = type.encode(value, scratch, 0);
  if (end < 0) {
    scratch = Buffer.allocUnsafe(2 * (scratch.length - end));
    end = type.encode(value, scratch, 0);
  }
  const out = Buffer.allocUnsafe(end); // small records come from Node's shared pool
  scratch.copy(out, 0, 0, end);
  return out;
}

function decode(type: Type, bytes: Buffer, what: string): unknown {
  try {
    return type.fromBuffer(bytes);
  } catch (err) {
    throw new NextActError(ErrorCodes.DECODE, `${what} state is neither JSON nor a valid ${type.name} Avro record: ${(err as Error).message}`, { cause: err });
  }
}

function parseJson(bytes: Buffer, what: string): { v?: unknown } {
  try {
    return JSON.parse(bytes.toString('utf8')) as { v?: unknown };
  } catch (err) {
    throw new NextActError(ErrorCodes.DECODE, `${what} state starts like JSON but does not parse: ${(err as Error).message}`, { cause: err });
  }
}

const journeyType = () => avroType('nextact.Journey');
const learnerType = () => avroType('nextact.Learner');

export function serialiseJourney(journey: JourneyState): Buffer {
  return encode(journeyType(), journey);
}

/** Avro of this version, or JSON of version 1 (migrated, see fromV1) or 2; anything else is refused with NXA_DECODE. */
export function deserialiseJourney(bytes: Buffer): JourneyState {
  const value = (bytes[0] === JSON_OPEN_BRACE ? parseJson(bytes, 'journey') : decode(journeyType(), bytes, 'journey')) as { v?: unknown };
  if (value?.v === 1) return fromV1(value as JourneyStateV1);
  if (value?.v !== JOURNEY_SCHEMA_VERSION) {
    throw new NextActError(ErrorCodes.DECODE, `journey state has schema version ${String(value?.v)}, this engine reads 1 (JSON) and ${JOURNEY_SCHEMA_VERSION}`);
  }
  return shareStrings(value as JourneyState);
}

export function serialiseLearner(learner: LearnerState): Buffer {
  const arms: Record<string, { successes: number; failures: number; at: number | null }> = {};
  for (const [key, a] of Object.entries(learner.arms)) arms[key] = { successes: a.successes, failures: a.failures, at: a.at ?? null };
  return encode(learnerType(), { v: LEARNER_SCHEMA_VERSION, arms });
}

/** Avro of this version, or JSON of version 1 (the same content); anything else is refused with NXA_DECODE. */
export function deserialiseLearner(bytes: Buffer): LearnerState {
  const json = bytes[0] === JSON_OPEN_BRACE;
  const value = (json ? parseJson(bytes, 'learner') : decode(learnerType(), bytes, 'learner')) as LearnerState;
  if (value?.v !== (json ? 1 : LEARNER_SCHEMA_VERSION)) {
    throw new NextActError(ErrorCodes.DECODE, `learner state has schema version ${String(value?.v)}, this engine reads 1 (JSON) and ${LEARNER_SCHEMA_VERSION}`);
  }
  const arms: LearnerState['arms'] = {};
  for (const [key, a] of Object.entries(value.arms))
    arms[key] = a.at == null ? { successes: a.successes, failures: a.failures } : { successes: a.successes, failures: a.failures, at: a.at };
  return { v: LEARNER_SCHEMA_VERSION, arms };
}
