/** The changelog encoding of the partition's learner: Avro with schemas/Learner.avsc, or JSON of version 1. */
import { avroType, ErrorCodes, NextActError } from '@nextact/core';
import { decodeState, encodeState, JSON_OPEN_BRACE, parseStateJson } from '../journey/codec';
import { LEARNER_SCHEMA_VERSION, type LearnerState } from './learner';

const learnerType = () => avroType('nextact.Learner');

export function serialiseLearner(learner: LearnerState): Buffer {
  const arms: Record<string, { successes: number; failures: number; at: number | null }> = {};
  for (const [key, a] of Object.entries(learner.arms)) arms[key] = { successes: a.successes, failures: a.failures, at: a.at ?? null };
  return encodeState(learnerType(), { v: LEARNER_SCHEMA_VERSION, arms });
}

/** Avro of this version, or JSON of version 1 (the same content); anything else is refused with NXA_DECODE. */
export function deserialiseLearner(bytes: Buffer): LearnerState {
  const json = bytes[0] === JSON_OPEN_BRACE;
  const value = (json ? parseStateJson(bytes, 'learner') : decodeState(learnerType(), bytes, 'learner')) as LearnerState;
  if (value?.v !== (json ? 1 : LEARNER_SCHEMA_VERSION)) {
    throw new NextActError(ErrorCodes.DECODE, `learner state has schema version ${String(value?.v)}, this engine reads 1 (JSON) and ${LEARNER_SCHEMA_VERSION}`);
  }
  const arms: LearnerState['arms'] = {};
  for (const [key, a] of Object.entries(value.arms))
    arms[key] = a.at == null ? { successes: a.successes, failures: a.failures } : { successes: a.successes, failures: a.failures, at: a.at };
  return { v: LEARNER_SCHEMA_VERSION, arms };
}
