/**
 * The models topic as the NBA domain's side input: each `nextact.CustomerFuturesModel` record
 * (key = version) goes into the timeline; a tombstone removes its version.
 */
import { type CustomerFuturesModel, topicNames } from '@nextact/core';
import { parametersOf } from '@nextact/core/src/models';
import type { SideInput } from '../domain';
import type { ModelTimeline } from './timeline';

export const MODEL_RECORD = 'nextact.CustomerFuturesModel';

export function modelsSideInput(timeline: ModelTimeline): SideInput {
  return {
    name: 'customer-futures-models',
    topic: (prefix) => topicNames(prefix).models,
    apply(record) {
      if (record.value === null) {
        if (record.key !== null) timeline.remove(record.key);
        return;
      }
      if (record.value.name !== MODEL_RECORD) throw new Error(`${record.value.name} does not belong on the models topic`);
      const model = record.value.value as CustomerFuturesModel;
      timeline.put(model.version, { effectiveAt: model.asOf, offset: BigInt(record.offset), parameters: parametersOf(model) });
    },
  };
}
