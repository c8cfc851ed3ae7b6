import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Resolver, Type } from 'avsc';
import { ErrorCodes, errorMessage, NextActError } from '../errors';
import type { Logger } from '../logger';
import { retry } from '../retry';
import type { RecordName, RecordTypes } from './generated';
import { schemas } from './generated';
import { avroType, isRecordName } from './records';

export interface RegistryConnection {
  url: string;
  username?: string;
  password?: string;
}

/** Which records a topic carries; each gets subject `<topic>-<record full name>`. */
export interface TopicBinding {
  topic: string;
  records: RecordName[];
}

/**
 * Subject naming: TopicRecordNameStrategy (`<topic>-<record full name>`), because one topic carries
 * several record types (one total order per customer). Compatibility is BACKWARD_TRANSITIVE:
 * replay reads the whole history with the newest schema, so every old version must stay readable.
 */
export const subjectFor = (topic: string, record: RecordName): string => `${topic}-${record}`;
export const compatibility = COMPATIBILITY.BACKWARD_TRANSITIVE;
/** How long one schema registration may take before it is tried again. */
const REGISTER_TIMEOUT_MS = 15_000;

export interface DecodedRecord<N extends RecordName = RecordName> {
  name: N;
  schemaId: number;
  value: RecordTypes[N];
}

const MAGIC = 0;

/**
 * Confluent wire format (magic byte 0, 4-byte schema id, Avro body) over our generated schemas.
 * Readers resolve each writer schema to the current reader schema, so evolved data decodes.
 */
export class RecordCodec {
  private readonly registry: SchemaRegistry;
  private readonly idsByTopicRecord = new Map<string, number>();
  private readonly readers = new Map<number, { name: RecordName; type: Type; resolver: Resolver }>();
  private readonly pending = new Map<number, Promise<{ name: RecordName; type: Type; resolver: Resolver }>>();

  constructor(
    private readonly connection: RegistryConnection,
    private readonly logger: Logger,
  ) {
    this.registry = new SchemaRegistry({
      host: connection.url,
      auth: connection.username && connection.password ? { username: connection.username, password: connection.password } : undefined,
      retry: { retries: 5, initialRetryTimeInSecs: 0.2, maxRetryTimeInSecs: 5 },
    });
  }

  /** Registers (idempotently) every record bound to a topic; refuses an incompatible schema. */
  async register(bindings: TopicBinding[]): Promise<Map<string, number>> {
    for (const { topic, records } of bindings) {
      for (const record of records) {
        const subject = subjectFor(topic, record);
        try {
          await this.declareCompatibility(subject);
          const id = await this.registerSchema(subject, schemas[record]);
          this.idsByTopicRecord.set(`${topic}\u0000${record}`, id);
          this.logger.debug('schema registered', { subject, id });
        } catch (err) {
          throw registryError(err, subject);
        }
      }
    }
    return new Map(this.idsByTopicRecord);
  }

  /** Registers a raw schema text under a subject (for evolution checks and tools). */
  async registerRaw(subject: string, schema: unknown): Promise<number> {
    try {
      await this.declareCompatibility(subject);
      return await this.registerSchema(subject, schema);
    } catch (err) {
      throw registryError(err, subject);
    }
  }

  /**
   * One registration, each attempt bounded in time: a registry that accepts the request and never
   * answers (seen with Apicurio's kafkasql storage under load) must not hang provisioning. The same
   * schema under the same subject gets the same id, so an attempt abandoned mid-flight is harmless.
   */
  private async registerSchema(subject: string, schema: unknown): Promise<number> {
    return retry(
      async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new NextActError(ErrorCodes.TIMEOUT, `registry did not answer the registration of ${subject} within ${REGISTER_TIMEOUT_MS} ms`, {
                  retriable: true,
                }),
              ),
            REGISTER_TIMEOUT_MS,
          );
        });
        try {
          const { id } = await Promise.race([
            this.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject, compatibility }),
            timeout,
          ]);
          return id;
        } finally {
          clearTimeout(timer);
        }
      },
      { retries: 3, shouldRetry: (err) => err instanceof NextActError && err.code === ErrorCodes.TIMEOUT },
    );
  }

  /**
   * Sets the subject's compatibility before registering. The client library sets it only after a
   * first registration, so concurrent first starts could see the registry default and fail; an
   * idempotent PUT first removes that race (registries accept config for subjects not yet created).
   */
  private async declareCompatibility(subject: string): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/vnd.schemaregistry.v1+json' };
    if (this.connection.username && this.connection.password) {
      headers.authorization = `Basic ${Buffer.from(`${this.connection.username}:${this.connection.password}`).toString('base64')}`;
    }
    const url = `${this.connection.url}/config/${encodeURIComponent(subject)}`;
    await retry(
      async () => {
        let res: Response;
        try {
          res = await fetch(url, { method: 'PUT', headers, body: JSON.stringify({ compatibility }), signal: AbortSignal.timeout(10_000) });
        } catch (err) {
          throw new NextActError(ErrorCodes.REGISTRY, `registry unreachable at ${this.connection.url}: ${errorMessage(err)}`, { retriable: true, cause: err });
        }
        if (res.ok) return;
        // Apicurio answers 409 when another process created the subject's rule at the same moment:
        // fine if that rule is ours, otherwise try again.
        if (res.status === 409) {
          const current = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
          const level = current?.ok ? ((await current.json()) as { compatibilityLevel?: string }).compatibilityLevel : undefined;
          if (level === compatibility) return;
        }
        throw new NextActError(ErrorCodes.REGISTRY, `registry refused compatibility ${compatibility} for ${subject}: ${res.status} ${await res.text()}`, {
          retriable: res.status >= 500 || res.status === 409,
        });
      },
      { retries: 5 },
    );
  }

  schemaId(topic: string, record: RecordName): number {
    const id = this.idsByTopicRecord.get(`${topic}\u0000${record}`);
    if (id === undefined) throw new NextActError(ErrorCodes.REGISTRY, `schema of ${record} on ${topic} is not registered; call register() first`);
    return id;
  }

  /** Encodes a validated value. Synchronous after register(): no registry round trip per record. */
  encode<N extends RecordName>(topic: string, record: N, value: RecordTypes[N]): Buffer {
    const id = this.schemaId(topic, record);
    const body = avroType(record).toBuffer(value);
    const header = Buffer.alloc(5);
    header.writeUInt8(MAGIC, 0);
    header.writeInt32BE(id, 1);
    return Buffer.concat([header, body]);
  }

  async decode(buffer: Buffer | null): Promise<DecodedRecord> {
    if (!buffer || buffer.length < 5)
      throw new NextActError(ErrorCodes.DECODE, `record is ${buffer ? `${buffer.length} bytes` : 'empty'}: too short for the Confluent wire format`);
    if (buffer.readUInt8(0) !== MAGIC)
      throw new NextActError(ErrorCodes.DECODE, `unknown magic byte ${buffer.readUInt8(0)} (expected 0, Confluent wire format)`);
    const schemaId = buffer.readInt32BE(1);
    const reader = this.readers.get(schemaId) ?? (await this.loadReader(schemaId));
    try {
      const value = reader.type.fromBuffer(buffer.subarray(5), reader.resolver, true);
      return { name: reader.name, schemaId, value } as DecodedRecord;
    } catch (err) {
      throw new NextActError(ErrorCodes.DECODE, `body does not match schema ${schemaId} (${reader.name}): ${errorMessage(err)}`, { cause: err });
    }
  }

  private loadReader(schemaId: number) {
    let p = this.pending.get(schemaId);
    if (!p) {
      p = (async () => {
        let writer: Type;
        try {
          writer = (await this.registry.getSchema(schemaId)) as unknown as Type;
        } catch (err) {
          const status = (err as { status?: number }).status;
          throw new NextActError(ErrorCodes.DECODE, `schema id ${schemaId} not found in the registry: ${errorMessage(err)}`, {
            retriable: status === undefined || status >= 500,
            cause: err,
          });
        }
        const name = writer.name ?? '';
        if (!isRecordName(name)) throw new NextActError(ErrorCodes.DECODE, `schema id ${schemaId} is ${name || 'unnamed'}, not a NextAct record`);
        const type = avroType(name);
        const entry = { name, type, resolver: type.createResolver(writer) };
        this.readers.set(schemaId, entry);
        return entry;
      })().finally(() => this.pending.delete(schemaId));
      this.pending.set(schemaId, p);
    }
    return p;
  }
}

function registryError(err: unknown, subject: string): NextActError {
  const message = errorMessage(err);
  const status = (err as { status?: number }).status;
  if (status === 409 || /incompatib/i.test(message)) {
    return new NextActError(
      ErrorCodes.SCHEMA_INCOMPATIBLE,
      `schema for subject ${subject} is incompatible with its registered versions (${compatibility}): ${message}`,
      { cause: err },
    );
  }
  return new NextActError(ErrorCodes.REGISTRY, `registry refused subject ${subject}: ${message}`, {
    retriable: status === undefined || status >= 500,
    cause: err,
  });
}
