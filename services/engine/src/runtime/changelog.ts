/**
 * Changelog values: the domain's journey and learner encodings, framed in the Confluent wire format
 * (magic byte 0, 4-byte schema id, Avro body) when the domain names their schemas, so any Confluent
 * client can read the changelog and the schemas evolve under the registry's BACKWARD_TRANSITIVE
 * check. Reading takes both framed values and values written before framing (the domain's own
 * JSON or Avro, which never start with byte 0 followed by one of our schema ids).
 *
 * A value framed with an older schema version is resolved to the current schema through the
 * registry (`normalise`, asynchronous, once per restore) before the domain reads it; stores keep
 * only current-schema values, so their reads stay synchronous.
 */
import { avroType, ErrorCodes, NextActError, type RecordCodec, type RecordName } from '@nextact/core';
import type { DecisionDomain } from '../domain';
import type { ValueCodec } from './stores';

const MAGIC = 0;
const HEADER = 5;

export class ChangelogCodec<J, L> {
  private ids?: { journey: number; learner: number };
  /**
   * Bytes of journeys encoded for the changelog, kept for a persistent store's commit right after,
   * which writes the same (immutable) journey objects: one encoding per change, not two.
   */
  private readonly encoded?: WeakMap<object, Buffer>;

  /** Without a registry the values stay unframed (tests, tools); framed ones are still read. */
  constructor(
    private readonly domain: DecisionDomain<J, L>,
    private readonly registry?: { codec: RecordCodec; topic: string },
    options: { reuseEncoded?: boolean } = {},
  ) {
    if (options.reuseEncoded) this.encoded = new WeakMap();
  }

  /** Registers the domain's state schemas for the changelog topic (idempotent); before any encode. */
  async register(): Promise<void> {
    const schemas = this.domain.stateSchemas;
    if (!schemas || !this.registry) return;
    const { codec, topic } = this.registry;
    await codec.register([{ topic, records: [schemas.journey, schemas.learner] }]);
    this.ids = { journey: codec.schemaId(topic, schemas.journey), learner: codec.schemaId(topic, schemas.learner) };
  }

  get framed(): boolean {
    return this.ids !== undefined;
  }

  journey(j: J): Buffer {
    const bytes = this.frame(this.ids?.journey, this.domain.serialiseJourney(j));
    if (this.encoded && typeof j === 'object' && j !== null) this.encoded.set(j, bytes);
    return bytes;
  }

  learner(l: L): Buffer {
    return this.frame(this.ids?.learner, this.domain.serialiseLearner(l));
  }

  decodeJourney(bytes: Buffer): J {
    return this.domain.deserialiseJourney(this.body(bytes, this.ids?.journey, 'journey'));
  }

  decodeLearner(bytes: Buffer): L {
    return this.domain.deserialiseLearner(this.body(bytes, this.ids?.learner, 'learner'));
  }

  /** The journey encoding as a store's value codec (stores keep what the changelog carries). */
  get journeyValues(): ValueCodec<J> {
    return {
      encode: (j) => (typeof j === 'object' && j !== null ? this.encoded?.get(j) : undefined) ?? this.journey(j),
      decode: (b) => this.decodeJourney(b),
    };
  }

  /**
   * A restored value as the current schema reads it: unchanged unless it is framed with another
   * schema id (an older version), which is resolved through the registry and framed anew.
   */
  normalise(bytes: Buffer): Buffer | Promise<Buffer> {
    if (!this.ids || !this.registry || !isFramed(bytes)) return bytes;
    const id = bytes.readInt32BE(1);
    if (id === this.ids.journey || id === this.ids.learner) return bytes;
    return this.registry.codec.decode(bytes).then((decoded) => {
      const current = decoded.name === this.domain.stateSchemas!.learner ? this.ids!.learner : this.ids!.journey;
      return this.frame(current, avroType(decoded.name as RecordName).toBuffer(decoded.value));
    });
  }

  private frame(id: number | undefined, body: Buffer): Buffer {
    if (id === undefined) return body;
    const out = Buffer.allocUnsafe(HEADER + body.length);
    out.writeUInt8(MAGIC, 0);
    out.writeInt32BE(id, 1);
    body.copy(out, HEADER);
    return out;
  }

  private body(bytes: Buffer, current: number | undefined, what: string): Buffer {
    if (!isFramed(bytes) || !this.domain.stateSchemas) return bytes;
    if (current === undefined) {
      throw new NextActError(
        ErrorCodes.DECODE,
        `${what} value is registry-framed: read it through a ChangelogCodec given the registry codec and topic, after register()`,
      );
    }
    const id = bytes.readInt32BE(1);
    if (id === current) return bytes.subarray(HEADER);
    throw new NextActError(ErrorCodes.DECODE, `${what} value is framed with schema id ${id}, not the current ${current}: normalise it first`);
  }
}

/** Byte 0 then a schema id: the domains' own encodings start with `{` (JSON) or a version varint. */
const isFramed = (bytes: Buffer): boolean => bytes.length >= HEADER && bytes[0] === MAGIC;
