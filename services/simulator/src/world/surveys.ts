/** Survey answers: they reflect the customer's mood when answering, plus any ground-truth effect. */
import type { CustomerEvent, SurveyResponse } from '@nextact/core';
import { clamp, type WorldContext } from './context';
import type { Customer } from './customer';
import { moodAt } from './mood';

/**
 * The answer given at `at`. `zCsat`/`zNps` are the answer's own noise, drawn when the survey was
 * sent; answers to decision surveys (`fromDecision`) never move the journey.
 */
export function surveyEvent(
  ctx: WorldContext,
  c: Customer,
  at: number,
  eventId: string,
  surveyId: string,
  zCsat: number,
  zNps: number | null,
  csatDelta: number,
  npsDelta: number,
  decisionId: string | null,
  fromDecision: boolean,
): CustomerEvent {
  const mood = moodAt(c, at);
  const csat = clamp(Math.round(3.7 + 1.5 * mood + 0.6 * zCsat + csatDelta), 1, 5);
  const nps = zNps === null ? null : clamp(Math.round(7.2 + 3 * mood + 1.2 * zNps + npsDelta), 0, 10);
  if (!fromDecision && nps !== null) {
    if (c.stage === 'RETENTION' && nps >= 9 && c.purchases >= 2) ctx.transition(c, 'ADVOCACY');
    else if (c.stage === 'ADVOCACY' && nps <= 4) ctx.transition(c, 'CHURN_RISK');
  }
  const value: SurveyResponse = {
    eventId,
    customerId: c.id,
    eventTime: at,
    source: 'sim.survey',
    schemaVersion: 1,
    surveyId,
    nps,
    csat,
    decisionId,
    comment: null,
  };
  return { name: 'nextact.SurveyResponse', value };
}
