/**
 * Which events ask for a decision (policy `triggers`): browse kinds showing intent, chats with
 * negative sentiment or an unresolved complaint-like intent, purchases, detractor / low-CSAT surveys,
 * and the inactivity timer. Consent changes and action outcomes only update state.
 */
import type { CustomerEvent } from '@nextact/core';
import type { Policy, TriggerKind } from '../spec/types';

export function triggerOf(policy: Policy, event: CustomerEvent): TriggerKind | undefined {
  const t = policy.triggers;
  switch (event.name) {
    case 'nextact.BrowseEvent':
      return t.browseKinds.includes(event.value.kind) ? 'BROWSE' : undefined;
    case 'nextact.ChatEvent': {
      const e = event.value;
      return e.sentiment < t.chat.sentimentBelow || (!e.resolved && t.chat.unresolvedIntents.includes(e.intent)) ? 'CHAT' : undefined;
    }
    case 'nextact.PurchaseEvent':
      return t.purchase ? 'PURCHASE' : undefined;
    case 'nextact.SurveyResponse': {
      const e = event.value;
      return (e.nps !== null && e.nps <= t.survey.npsAtMost) || (e.csat !== null && e.csat <= t.survey.csatAtMost) ? 'SURVEY' : undefined;
    }
    default:
      return undefined;
  }
}
