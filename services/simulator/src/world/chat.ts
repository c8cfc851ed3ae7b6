/**
 * A chat with service: the intent follows the customer's stage, mood and service proneness; the
 * outcome moves mood and journey (an unresolved complaint puts the customer at risk), and a CSAT
 * survey sometimes follows.
 */
import type { ChatEvent, ChatIntent } from '@nextact/core';
import { chatTexts, intentResolution, intentSentiment } from '../catalog';
import { clamp, HOUR, round3, type WorldContext } from './context';
import type { Customer } from './customer';
import { moodAt, setMood } from './mood';
import { surveyEvent } from './surveys';

const INTENTS: readonly ChatIntent[] = ['PRODUCT_QUESTION', 'ORDER_STATUS', 'RETURN_REFUND', 'BILLING', 'COMPLAINT', 'CANCEL', 'OTHER'];

/** The conversation starting at `at`; returns the time of its last message. */
export function chat(ctx: WorldContext, c: Customer, at: number): number {
  const rng = c.rng;
  const mood = moodAt(c, at);
  const after = c.purchases > 0;
  // Weights in the order of INTENTS.
  const weights = [
    c.stage === 'CONSIDERATION' ? 5 : 2,
    after ? (c.stage === 'PURCHASE' ? 4 : 1.5) : 0.2,
    after ? 1 : 0,
    0.6,
    0.3 + 2 * c.traits.serviceProneness + (mood < 0 ? 1.5 : 0) + (c.stage === 'CHURN_RISK' ? 1 : 0),
    c.stage === 'CHURN_RISK' ? 1 : 0.03,
    0.6,
  ];
  const intent = INTENTS[rng.weightedIndex(weights)] as ChatIntent;
  const conversationId = `conv-${ctx.seed}-${c.id}-${c.n}`;
  const messages = rng.int(2, 5);
  const resolved = rng.chance(intentResolution[intent]);
  const escalates = intent === 'COMPLAINT' || intent === 'CANCEL' || (intent === 'RETURN_REFUND' && rng.chance(0.5));
  let t = at;
  let sentimentSum = 0;
  for (let i = 0; i < messages; i++) {
    const last = i === messages - 1;
    let s = intentSentiment[intent] + 0.3 * mood + rng.normal(0, 0.2);
    if (last) s += resolved ? 0.3 : -0.2;
    const sentiment = round3(clamp(s, -1, 1));
    sentimentSum += sentiment;
    const value: ChatEvent = {
      eventId: ctx.eventId(c),
      customerId: c.id,
      eventTime: t,
      source: 'sim.chat',
      schemaVersion: 1,
      conversationId,
      text: rng.pick(chatTexts[intent]),
      intent,
      sentiment,
      resolved: last && resolved,
      handledBy: i > 0 && escalates ? 'AGENT' : 'BOT',
    };
    ctx.emit(c, t, { name: 'nextact.ChatEvent', value });
    if (!last) t += 20_000 + Math.floor(rng.next() * 70_000);
  }
  const avgSentiment = sentimentSum / messages;

  if (intent === 'COMPLAINT') {
    c.lastComplaintAt = t;
    setMood(c, t, resolved ? -0.3 : -0.5);
  } else {
    setMood(c, t, 0.2 * avgSentiment + (resolved ? 0.03 : -0.1));
  }
  const bad = (intent === 'COMPLAINT' || intent === 'CANCEL') && !resolved;
  if (bad && c.stage !== 'AWARENESS') ctx.transition(c, 'CHURN_RISK');
  else if (intent === 'COMPLAINT' && c.stage === 'ADVOCACY') ctx.transition(c, 'RETENTION');
  else if (c.stage === 'CHURN_RISK' && resolved && avgSentiment > 0 && rng.chance(0.4)) ctx.transition(c, 'RETENTION');

  if (rng.chance(0.35)) {
    const surveyAt = t + 5 * 60_000 + Math.floor(rng.next() * 3 * HOUR);
    const zCsat = rng.normal();
    const surveyId = ctx.eventId(c);
    ctx.schedule({ time: surveyAt, customer: c.index, run: () => surveyEvent(ctx, c, surveyAt, surveyId, 'post-chat-csat', zCsat, null, 0, 0, null, false) });
  }
  return t;
}
