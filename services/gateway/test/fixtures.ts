/** Valid example events of every type, as a sender would post them. */
export function sampleEvents(customerId: string, eventTime = Date.UTC(2026, 10, 1)) {
  return {
    browse: { type: 'browse', customerId, eventTime, source: 'web', kind: 'PRODUCT_VIEW', productId: 'sku-1', category: 'shoes' },
    chat: {
      type: 'chat',
      customerId,
      eventTime,
      source: 'chatbot',
      conversationId: 'conv-1',
      intent: 'ORDER_STATUS',
      sentiment: -0.4,
      resolved: false,
      handledBy: 'BOT',
    },
    purchase: {
      type: 'purchase',
      customerId,
      eventTime,
      source: 'shop',
      orderId: 'o-1',
      lineItems: [{ sku: 'sku-1', category: 'shoes', quantity: 2, unitPriceMinor: 4999 }],
      amountMinor: 9998,
      currency: 'EUR',
      channel: 'WEB',
    },
    survey: { type: 'survey', customerId, eventTime, source: 'survey-tool', surveyId: 's-1', nps: 9 },
    outcome: {
      type: 'outcome',
      customerId,
      eventTime,
      source: 'email',
      decisionId: 'd-1',
      actionId: 'offer-10',
      channel: 'EMAIL',
      outcome: 'CLICKED',
    },
    consent: { type: 'consent', customerId, eventTime, source: 'prefs', channel: 'SMS', granted: true, timeZone: 'Europe/Berlin' },
  };
}
