/**
 * Every customer-futures model version the engine knows, ordered by effective time (the model's
 * `asOf`; ties by the later offset on the models topic). The version applied to an event is the
 * newest whose effective time is at or before the event's time, so a replay of the same events with
 * the same models applies the same versions, whenever it runs.
 */
import type { CustomerFuturesParameters } from '@nextact/core/src/models';

export interface ModelVersion {
  /** Effective from this event time on (the model's asOf). */
  effectiveAt: number;
  /** Position on the models topic: breaks ties between versions effective at the same time. */
  offset: bigint;
  parameters: CustomerFuturesParameters;
}

export class ModelTimeline {
  private versions: ModelVersion[] = [];
  /** Bumped on every change, so callers can cache lookups. */
  revision = 0;

  get size(): number {
    return this.versions.length;
  }

  /** Adds (or, for a version already known, replaces) a model; a republished version moves to its new place. */
  put(version: string, model: ModelVersion): void {
    const kept = this.versions.filter((v) => v.parameters.version !== version);
    kept.push(model);
    kept.sort((a, b) => a.effectiveAt - b.effectiveAt || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
    this.versions = kept;
    this.revision++;
  }

  /** A tombstone on the models topic: the version is gone. */
  remove(version: string): void {
    const kept = this.versions.filter((v) => v.parameters.version !== version);
    if (kept.length === this.versions.length) return;
    this.versions = kept;
    this.revision++;
  }

  /** Index of the newest version effective at or before `at`, or −1 (binary search: versions are few, events many). */
  private indexAt(at: number): number {
    let lo = 0;
    let hi = this.versions.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.versions[mid]!.effectiveAt <= at) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  inForceAt(at: number): ModelVersion | undefined {
    const i = this.indexAt(at);
    return i < 0 ? undefined : this.versions[i];
  }
}
