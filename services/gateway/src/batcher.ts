import { ErrorCodes, NextActError, type OutgoingRecord, type RecordPosition } from '@nextact/core';

export interface BatcherOptions {
  /** Writes records and resolves once the broker acknowledged all of them. */
  send(records: OutgoingRecord[]): Promise<RecordPosition[]>;
  /** Flush as soon as this many records are queued. */
  maxBatchRecords: number;
  /** Otherwise flush this long after the first record was queued. */
  lingerMs: number;
  /** Records queued or awaiting acks beyond which submissions are refused (back-pressure). */
  maxInFlightRecords: number;
  /** Sends awaiting acks at once; more queue up and are merged into the next send. */
  maxConcurrentSends: number;
  /** Called after each send with its size and duration, for metrics. */
  onSend?(info: { records: number; seconds: number; ok: boolean }): void;
  /** Called whenever the number of records queued or in flight changes. */
  onInFlight?(records: number): void;
}

interface Pending {
  records: OutgoingRecord[];
  resolve(positions: RecordPosition[]): void;
  reject(err: unknown): void;
}

export interface Batcher {
  /**
   * Queues one request's records; they go out together in one send, in order. Resolves when the
   * broker acknowledged them; rejects at once with NXA_BACKPRESSURE when the limit is reached.
   */
  submit(records: OutgoingRecord[]): Promise<RecordPosition[]>;
  /** Records queued or awaiting acks. */
  inFlight(): number;
  /** Refuses new submissions, sends what is queued and waits for every ack. */
  close(): Promise<void>;
}

export function createBatcher(options: BatcherOptions): Batcher {
  let queue: Pending[] = [];
  let queuedRecords = 0;
  let inFlight = 0;
  let sending = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const idle: (() => void)[] = [];

  const changed = () => {
    options.onInFlight?.(inFlight);
    if (inFlight === 0) for (const done of idle.splice(0)) done();
  };

  const flush = () => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (queue.length === 0 || sending >= options.maxConcurrentSends) return;
    const batch = queue;
    const records = batch.flatMap((p) => p.records);
    queue = [];
    queuedRecords = 0;
    sending++;
    const started = process.hrtime.bigint();
    const finish = (ok: boolean) => {
      options.onSend?.({ records: records.length, seconds: Number(process.hrtime.bigint() - started) / 1e9, ok });
      sending--;
      inFlight -= records.length;
      changed();
      // Whatever queued while this send was out goes next, already merged.
      if (queue.length > 0 && (queuedRecords >= options.maxBatchRecords || !timer)) flush();
    };
    options.send(records).then(
      (positions) => {
        finish(true);
        // Positions come back per topic-partition, not per record: every request in the batch was acked.
        for (const p of batch) p.resolve(positions);
      },
      (err: unknown) => {
        finish(false);
        for (const p of batch) p.reject(err);
      },
    );
  };

  return {
    submit(records) {
      if (closed) return Promise.reject(new NextActError(ErrorCodes.BACKPRESSURE, 'gateway is shutting down', { retriable: true }));
      if (records.length === 0) return Promise.resolve([]);
      // A request larger than the whole limit is still let through when nothing else is pending, or it could never pass.
      if (inFlight > 0 && inFlight + records.length > options.maxInFlightRecords) {
        return Promise.reject(
          new NextActError(
            ErrorCodes.BACKPRESSURE,
            `${inFlight} events are awaiting broker acks and ${records.length} more would exceed the limit of ${options.maxInFlightRecords}; retry shortly`,
            { retriable: true },
          ),
        );
      }
      return new Promise<RecordPosition[]>((resolve, reject) => {
        queue.push({ records, resolve, reject });
        queuedRecords += records.length;
        inFlight += records.length;
        changed();
        if (queuedRecords >= options.maxBatchRecords) flush();
        else if (!timer) {
          timer = setTimeout(flush, options.lingerMs);
          // The server keeps the process alive; a lone linger timer must not.
          timer.unref();
        }
      });
    },
    inFlight: () => inFlight,
    async close() {
      closed = true;
      if (inFlight === 0) return;
      const done = new Promise<void>((resolve) => idle.push(resolve));
      flush();
      await done;
    },
  };
}
