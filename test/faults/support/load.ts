/**
 * Load through the gateway's HTTP API the way a careful sender behaves: every event carries its
 * own eventId (the downstream idempotency key), and a request that is refused as retriable (503,
 * 429) or gets no answer is sent again with the same ids, with backoff, until a 202.
 */
import { sleep } from '@nextact/core';

export interface GatewayLoad {
  /** Event ids the gateway answered 202 for. */
  accepted: string[];
  /** Requests sent again (503, 429, 5xx, no answer). */
  retries: number;
  statuses: Record<string, number>;
}

let seq = 0;

/** `n` browse and chat events over `customers` customers with rising event times. */
export function gatewayEvents(n: number, customers: number, idPrefix: string, baseTime = Date.UTC(2026, 5, 1)): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const customerId = `gw-cust-${(i * 7919) % customers}`;
    const eventTime = baseTime + (seq++ % 1_000_000) * 500;
    const eventId = `${idPrefix}-${i}`;
    out.push(
      i % 3 === 2
        ? {
            type: 'chat',
            eventId,
            customerId,
            eventTime,
            source: 'fault',
            conversationId: `c-${i % 11}`,
            intent: 'ORDER_STATUS',
            sentiment: 0.1,
            resolved: true,
            handledBy: 'BOT',
          }
        : { type: 'browse', eventId, customerId, eventTime, source: 'fault', kind: 'PRODUCT_VIEW', productId: `p-${i % 13}`, category: 'shoes' },
    );
  }
  return out;
}

export async function postEvents(
  url: string,
  events: Record<string, unknown>[],
  options: { batch?: number; pauseMs?: number; giveUpAfterMs?: number; load?: GatewayLoad; stop?: () => boolean } = {},
): Promise<GatewayLoad> {
  const load = options.load ?? { accepted: [], retries: 0, statuses: {} };
  const batch = options.batch ?? 50;
  for (let i = 0; i < events.length && !options.stop?.(); i += batch) {
    const body = JSON.stringify(events.slice(i, i + batch));
    const deadline = Date.now() + (options.giveUpAfterMs ?? 120_000);
    for (let attempt = 0; ; attempt++) {
      let status = 0;
      let answer: { eventIds?: string[] } = {};
      try {
        const res = await fetch(`${url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(15_000),
        });
        status = res.status;
        answer = (await res.json().catch(() => ({}))) as { eventIds?: string[] };
      } catch {
        status = 0; // no answer
      }
      load.statuses[String(status)] = (load.statuses[String(status)] ?? 0) + 1;
      if (status === 202) {
        load.accepted.push(...(answer.eventIds ?? []));
        break;
      }
      if (status !== 0 && status !== 429 && status < 500) throw new Error(`gateway refused a valid batch with ${status}: ${JSON.stringify(answer)}`);
      if (Date.now() > deadline) throw new Error(`gateway did not accept a batch within ${options.giveUpAfterMs ?? 120_000} ms (last status ${status})`);
      load.retries += 1;
      await sleep(Math.min(2_000, 100 * 2 ** attempt));
    }
    if (options.pauseMs) await sleep(options.pauseMs);
  }
  return load;
}
