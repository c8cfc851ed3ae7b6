/**
 * Where shadow decisions go: a JSON Lines file, an Avro object container file, or a shadow topic.
 * Output is deterministic (same range + policy = same bytes), so a resumed run cuts back to the last
 * position its progress file recorded and writes the rest again: the result equals an uninterrupted run.
 */

import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { avroType, type Decision, type KafkaAdmin, type KafkaClient, type RecordCodec, type RecordName, type RecordProducer } from '@nextact/core';
import { Type } from 'avsc';
import { invalid } from './range';

export type OutputFormat = 'jsonl' | 'avro';

/** Durable position of an output: bytes of a file, decisions per partition of a topic. */
export type OutputPosition = { bytes: number } | { perPartition: Record<string, number> };

export interface DecisionOutput {
  readonly description: string;
  /** Opens the output for a fresh run (no position) or a resume at `position`. */
  open(position?: OutputPosition): Promise<void>;
  write(partition: number, decision: Decision): Promise<void> | void;
  /** Makes everything written durable and returns the position to resume from. */
  flush(): Promise<OutputPosition>;
  close(): Promise<void>;
}

export const decisionType = avroType('nextact.Decision' as RecordName);

/** One decision as a JSON line, fields in schema order (decisions are built in that order), so the text is stable. */
export const decisionLine = (d: Decision): string => `${JSON.stringify(d)}\n`;

const BUFFER_BYTES = 1 << 20;

abstract class FileOutput implements DecisionOutput {
  protected fd = -1;
  protected bytes = 0;
  private chunks: Buffer[] = [];
  private pending = 0;

  constructor(readonly path: string) {}

  get description(): string {
    return this.path;
  }

  async open(position?: OutputPosition): Promise<void> {
    if (position && !('bytes' in position)) throw invalid(`${this.path}: the progress file records a topic position, not a file's`);
    this.fd = openSync(this.path, position ? 'r+' : 'w');
    if (position) {
      ftruncateSync(this.fd, position.bytes);
      this.bytes = position.bytes;
    } else {
      this.append(this.header());
    }
  }

  protected header(): Buffer {
    return Buffer.alloc(0);
  }

  protected append(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.pending += b.length;
    if (this.pending >= BUFFER_BYTES) this.drain();
  }

  protected drain(): void {
    if (this.pending === 0) return;
    const all = Buffer.concat(this.chunks, this.pending);
    let off = 0;
    while (off < all.length) off += writeSync(this.fd, all, off, all.length - off, this.bytes + off);
    this.bytes += all.length;
    this.chunks = [];
    this.pending = 0;
  }

  abstract write(partition: number, decision: Decision): void;

  async flush(): Promise<OutputPosition> {
    this.drain();
    return { bytes: this.bytes };
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export class JsonLinesOutput extends FileOutput {
  write(_partition: number, decision: Decision): void {
    this.append(Buffer.from(decisionLine(decision)));
  }
}

/**
 * Avro object container file (the spec's `Obj\x01` header, null codec, blocks of decisions). The
 * sync marker is derived from the run's identity instead of drawn at random, so the bytes repeat.
 */
export class AvroFileOutput extends FileOutput {
  private block: Buffer[] = [];
  private blockBytes = 0;
  private readonly sync: Buffer;

  constructor(path: string, identity: string) {
    super(path);
    this.sync = createHash('sha256').update(`avro-sync:${identity}`).digest().subarray(0, 16);
  }

  protected override header(): Buffer {
    const meta = headerType.toBuffer({ 'avro.schema': Buffer.from(JSON.stringify(decisionType.schema())), 'avro.codec': Buffer.from('null') });
    return Buffer.concat([MAGIC, meta, this.sync]);
  }

  write(_partition: number, decision: Decision): void {
    const b = decisionType.toBuffer(decision);
    this.block.push(b);
    this.blockBytes += b.length;
    if (this.blockBytes >= 64 * 1024) this.endBlock();
  }

  private endBlock(): void {
    if (this.block.length === 0) return;
    this.append(Buffer.concat([longType.toBuffer(this.block.length), longType.toBuffer(this.blockBytes), ...this.block, this.sync]));
    this.block = [];
    this.blockBytes = 0;
  }

  override async flush(): Promise<OutputPosition> {
    this.endBlock(); // a position is always at a block boundary
    return super.flush();
  }
}

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const headerType = Type.forSchema({ type: 'map', values: 'bytes' });
const longType = Type.forSchema('long');

/** Reads an Avro container file written by AvroFileOutput (or any null-codec writer). */
export function readAvroDecisions(file: Buffer): Decision[] {
  if (!file.subarray(0, 4).equals(MAGIC)) throw invalid('not an Avro object container file');
  let pos = 4;
  const meta = headerType.decode(file, pos) as { value: Record<string, Buffer>; offset: number };
  pos = meta.offset;
  const schema = JSON.parse(meta.value['avro.schema']!.toString());
  const type = Type.forSchema(schema);
  const sync = file.subarray(pos, pos + 16);
  pos += 16;
  const out: Decision[] = [];
  while (pos < file.length) {
    const count = longType.decode(file, pos) as { value: number; offset: number };
    const size = longType.decode(file, count.offset) as { value: number; offset: number };
    let p = size.offset;
    for (let i = 0; i < count.value; i++) {
      const r = type.decode(file, p) as { value: Decision; offset: number };
      out.push(r.value);
      p = r.offset;
    }
    if (!file.subarray(p, p + 16).equals(sync)) throw invalid('Avro container: sync marker mismatch (truncated or corrupt file)');
    pos = p + 16;
  }
  return out;
}

/**
 * A shadow topic of its own (`<prefix>shadow-decisions-<run>`, same partitioning as the input), with
 * the engine's record shape: key = customer id, Avro value, the same headers. Its producer is
 * idempotent and not transactional, so its offsets count its records: on resume, what already landed
 * after the last recorded position is skipped instead of written twice.
 */
export class TopicOutput implements DecisionOutput {
  private producer?: RecordProducer;
  private batch: { topic: string; key: string; partition: number; value: Buffer; headers: Record<string, string> }[] = [];
  private readonly written = new Map<number, number>();
  private readonly skip = new Map<number, number>();

  constructor(
    private readonly kafka: KafkaClient,
    private readonly admin: KafkaAdmin,
    private readonly codec: RecordCodec,
    readonly topic: string,
    private readonly partitions: number,
  ) {}

  get description(): string {
    return `topic ${this.topic}`;
  }

  async open(position?: OutputPosition): Promise<void> {
    if (position && !('perPartition' in position)) throw invalid(`${this.topic}: the progress file records a file position, not a topic's`);
    await this.admin.ensureTopics([
      { name: this.topic, partitions: this.partitions, replicationFactor: 1, config: { 'retention.ms': String(7 * 24 * 3600 * 1000) } },
    ]);
    await this.codec.register([{ topic: this.topic, records: ['nextact.Decision'] }]);
    const marks = await this.admin.watermarks(this.topic);
    if (!position && marks.some((m) => m.high !== m.low))
      throw invalid(`shadow topic ${this.topic} already holds decisions: name another --run, or delete the topic (a fresh run never appends)`);
    for (const m of marks) {
      const recorded = position && 'perPartition' in position ? (position.perPartition[String(m.partition)] ?? 0) : 0;
      const landed = Number(BigInt(m.high) - BigInt(m.low));
      this.written.set(m.partition, recorded);
      if (landed > recorded) this.skip.set(m.partition, landed - recorded);
    }
    this.producer = await this.kafka.producer({ idempotent: true });
  }

  async write(partition: number, d: Decision): Promise<void> {
    const skip = this.skip.get(partition) ?? 0;
    this.written.set(partition, (this.written.get(partition) ?? 0) + 1);
    if (skip > 0) {
      this.skip.set(partition, skip - 1); // landed before the interrupt, after the last saved position
      return;
    }
    this.batch.push({
      topic: this.topic,
      key: d.customerId,
      partition,
      value: this.codec.encode(this.topic, 'nextact.Decision', d),
      headers: { 'decision-id': d.decisionId, action: d.actionId, deliver: String(d.deliver), 'policy-version': d.policyVersion },
    });
    if (this.batch.length >= 2_000) await this.send();
  }

  private async send(): Promise<void> {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    await this.producer!.send(batch);
  }

  async flush(): Promise<OutputPosition> {
    await this.send();
    return { perPartition: Object.fromEntries([...this.written].map(([p, n]) => [String(p), n])) };
  }

  async close(): Promise<void> {
    await this.flush();
    await this.producer?.close();
  }
}
