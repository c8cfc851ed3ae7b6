/**
 * Fitting on a schedule and on demand, and publishing each version. A scheduled fit is as of the
 * data's latest event; a fit with nothing new (same version) is not published again.
 */
import type { CustomerFuturesModel, Logger } from '@nextact/core';
import type { ClickHouse } from '../store/clickhouse';
import { type FitTimings, fitCustomerFutures, latestAsOf } from './fit';
import type { ModelPublisher } from './publish';

export interface PublishedModel {
  model: CustomerFuturesModel;
  timings: FitTimings;
  spendNote: string | null;
  /** Where it was written; null when this version had been published already. */
  position: { topic: string; partition: number; offset: string } | null;
}

export class ClvModels {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private lastVersion: string | undefined;

  constructor(
    private readonly store: ClickHouse,
    private readonly publisher: ModelPublisher,
    private readonly logger: Logger,
  ) {}

  async fitAndPublish(options: { asOf?: number; horizonDays?: number } = {}): Promise<PublishedModel> {
    const asOf = options.asOf ?? (await latestAsOf(this.store));
    const fitted = await fitCustomerFutures(this.store, { asOf, horizonDays: options.horizonDays });
    let position: PublishedModel['position'] = null;
    if (fitted.model.version !== this.lastVersion) {
      position = await this.publisher.publish(fitted.model);
      this.lastVersion = fitted.model.version;
      this.logger.info('clv model published', {
        version: fitted.model.version,
        asOf: new Date(asOf).toISOString(),
        customers: fitted.model.customers,
        ...position,
        ...fitted.timings,
      });
    }
    return { ...fitted, position };
  }

  /** Every `minutes` (0: never); a fit still running is not started again. */
  schedule(minutes: number): void {
    if (!(minutes > 0)) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.fitAndPublish()
        .catch((err) => this.logger.warn('scheduled clv fit failed', { err }))
        .finally(() => {
          this.running = undefined;
        });
    }, minutes * 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
