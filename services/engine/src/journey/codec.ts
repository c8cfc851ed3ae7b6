/**
 * The changelog encoding of journey state: Avro binary with schemas/Journey.avsc (a standard
 * Confluent deserializer reads it once the runtime frames it with the registry id), and the state
 * encoding helpers the learner's codec (policy/learner-codec) shares. State written by engines
 * before version 2, as JSON, is still read: a JSON record starts with `{`, an Avro one with its
 * version (0x04 for 2), so the two never mix up.
 */
import { avroType, ErrorCodes, NextActError, schemas } from '@nextact/core';
import { Type as AvroType, type Resolver } from 'avsc';
import { fromV1, JOURNEY_SCHEMA_VERSION, type JourneyState, type JourneyStateV1, shareStrings } from './state';

type Type = ReturnType<typeof avroType>;
/** A JSON state record (version 1) starts with this byte; an Avro one never does. */
export const JSON_OPEN_BRACE = 0x7b;

let scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * One encoding pass into a shared buffer that grows on demand, then one copy out. (avsc's toBuffer
 * writes into a fixed 1 KiB buffer and encodes a second time whenever a record is larger.)
 */
export function encodeState(type: Type, value: unknown): Buffer {
  let end = type.encode(value, scratch, 0);
  if (end < 0) {
    scratch = Buffer.allocUnsafe(2 * (scratch.length - end));
    end = type.encode(value, scratch, 0);
  }
  const out = Buffer.allocUnsafe(end); // small records come from Node's shared pool
  scratch.copy(out, 0, 0, end);
  return out;
}

export function decodeState(type: Type, bytes: Buffer, what: string, resolver?: Resolver): unknown {
  try {
    return type.fromBuffer(bytes, resolver);
  } catch (err) {
    throw new NextActError(ErrorCodes.DECODE, `${what} state is neither JSON nor a valid ${type.name} Avro record: ${(err as Error).message}`, { cause: err });
  }
}

export function parseStateJson(bytes: Buffer, what: string): { v?: unknown } {
  try {
    return JSON.parse(bytes.toString('utf8')) as { v?: unknown };
  } catch (err) {
    throw new NextActError(ErrorCodes.DECODE, `${what} state starts like JSON but does not parse: ${(err as Error).message}`, { cause: err });
  }
}

const journeyType = () => avroType('nextact.Journey');

/**
 * Fields Journey.avsc gained after each older Avro version: a record of that version is read
 * through a resolver from the current schema without them (their defaults fill in).
 */
const ADDED_SINCE: Record<number, readonly string[]> = {
  2: ['purchaseDays', 'acquisitionChannel', 'categories'],
  3: ['categories'],
};
const resolvers = new Map<number, Resolver>();
function olderJourneyResolver(version: number): Resolver {
  let resolver = resolvers.get(version);
  if (!resolver) {
    const added = new Set(ADDED_SINCE[version]);
    const current = schemas['nextact.Journey'] as { fields: { name: string }[] };
    const older = AvroType.forSchema({ ...current, fields: current.fields.filter((f) => !added.has(f.name)) } as never);
    resolver = journeyType().createResolver(older);
    resolvers.set(version, resolver);
  }
  return resolver;
}
/** The leading `v` field as Avro writes it (zig-zag varint: 2 is 0x04, 3 is 0x06), for versions read through a resolver. */
const OLDER_AVRO = new Map([
  [0x04, 2],
  [0x06, 3],
]);

export function serialiseJourney(journey: JourneyState): Buffer {
  return encodeState(journeyType(), journey);
}

/** Avro of this version, 3 or 2, or JSON of version 1 (migrated, see fromV1); anything else is refused with NXA_DECODE. */
export function deserialiseJourney(bytes: Buffer): JourneyState {
  const older = OLDER_AVRO.get(bytes[0]!);
  const value = (
    bytes[0] === JSON_OPEN_BRACE
      ? parseStateJson(bytes, 'journey')
      : decodeState(journeyType(), bytes, 'journey', older === undefined ? undefined : olderJourneyResolver(older))
  ) as { v?: unknown };
  if (value?.v === 1) return fromV1(value as JourneyStateV1);
  // Versions 2 and 3 are this one without the fields added since (the resolver filled their defaults).
  if (value?.v === 2 || value?.v === 3) return shareStrings({ ...(value as JourneyState), v: JOURNEY_SCHEMA_VERSION });
  if (value?.v !== JOURNEY_SCHEMA_VERSION) {
    throw new NextActError(
      ErrorCodes.DECODE,
      `journey state has schema version ${String(value?.v)}, this engine reads 1 (JSON), 2, 3 and ${JOURNEY_SCHEMA_VERSION}`,
    );
  }
  return shareStrings(value as JourneyState);
}
