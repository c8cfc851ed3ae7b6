/** Opens a partition's state on the configured store (ENGINE_STORE). */
import { join } from 'node:path';
import { LmdbPartitionState } from './lmdb';
import { MemoryPartitionState } from './memory';
import type { PartitionState, StoreKind, ValueCodec } from './types';

export * from './change-logging';
export * from './lmdb';
export * from './memory';
export * from './memory-timers';
export * from './types';

export interface StoreSettings {
  kind: StoreKind;
  /** lmdb: the folder holding one environment per partition, `<dir>/<partition>`. */
  dir?: string;
  /** lmdb: decoded journeys kept on the heap per partition. */
  cacheEntries?: number;
}

export async function openPartitionState<V>(settings: StoreSettings, partition: number, codec: ValueCodec<V>): Promise<PartitionState<V>> {
  if (settings.kind === 'memory') return new MemoryPartitionState<V>(codec);
  if (!settings.dir) throw new Error('the lmdb store needs a folder (ENGINE_STATE_DIR)');
  return LmdbPartitionState.open(codec, { path: join(settings.dir, String(partition)), cacheEntries: settings.cacheEntries });
}
