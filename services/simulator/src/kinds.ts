import type { CustomerEvent } from '@nextact/core';

/** Short type of a record name, as the gateway's JSON and the metrics label it. */
export const kindOf: Record<CustomerEvent['name'], 'browse' | 'chat' | 'purchase' | 'survey' | 'outcome' | 'consent' | 'erasure'> = {
  'nextact.BrowseEvent': 'browse',
  'nextact.ChatEvent': 'chat',
  'nextact.PurchaseEvent': 'purchase',
  'nextact.SurveyResponse': 'survey',
  'nextact.ActionOutcome': 'outcome',
  'nextact.ConsentChange': 'consent',
  'nextact.ErasureRequest': 'erasure',
};
