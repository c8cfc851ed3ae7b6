import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { checkBearer, sendUnauthorized } from './auth';
import { ErrorCodes, NextActError } from './errors';
import type { Logger } from './logger';

export interface Readiness {
  ready: boolean;
  /** Why not ready, shown on /readyz. */
  reason?: string;
}

/** A route handler returns false when the request is not its own. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;

export interface HttpServiceOptions {
  name: string;
  host: string;
  port: number;
  metrics: Registry;
  logger: Logger;
  readiness?: () => Readiness;
  routes?: RouteHandler;
  /** Bearer token every route (not /metrics, /healthz, /readyz) requires; undefined = open. */
  routeToken?: string;
  /** Requests per second per client address on the routes (bursts of twice that); 0 or unset = no limit. */
  rateLimit?: number;
}

export interface HttpService {
  port: number;
  url: string;
  close(): Promise<void>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Reads a request body, refusing more than `maxBytes` before buffering it. Past the limit the
 * read stops (the stream is destroyed, nothing more is buffered) and the caller answers 413 with
 * `connection: close`: Node writes the answer before closing, so the sender still reads it.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new NextActError(ErrorCodes.PAYLOAD_TOO_LARGE, `body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) {
      throw new NextActError(ErrorCodes.PAYLOAD_TOO_LARGE, `body exceeds the limit of ${maxBytes} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size);
}

/**
 * Token buckets per client address: `perSecond` refill, `2 × perSecond` capacity. The table is
 * bounded (oldest address evicted first) so a flood of source addresses cannot grow it without end.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly capacity: number;

  constructor(
    private readonly perSecond: number,
    private readonly maxClients = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.capacity = perSecond * 2;
  }

  /** Takes one token for `client`; returns 0 when allowed, else the seconds until a token is back. */
  take(client: string): number {
    const t = this.now();
    let b = this.buckets.get(client);
    if (b) {
      b.tokens = Math.min(this.capacity, b.tokens + ((t - b.at) / 1000) * this.perSecond);
      b.at = t;
      // Re-insert so Map order is least-recently-seen first.
      this.buckets.delete(client);
    } else {
      b = { tokens: this.capacity, at: t };
      if (this.buckets.size >= this.maxClients) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }
}

/**
 * Every service's HTTP face: /metrics, /healthz (the process is alive), /readyz (it can do its
 * job: consumer assigned, state restored), plus the service's own routes.
 */
export async function startHttpService(options: HttpServiceOptions): Promise<HttpService> {
  const { logger } = options;
  const limiter = options.rateLimit ? new RateLimiter(options.rateLimit) : undefined;
  const server: Server = createServer(async (req, res) => {
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/metrics') {
        const text = await options.metrics.metrics();
        res.writeHead(200, { 'content-type': options.metrics.contentType });
        res.end(text);
        return;
      }
      if (req.method === 'GET' && path === '/healthz') {
        sendJson(res, 200, { status: 'ok', service: options.name });
        return;
      }
      if (req.method === 'GET' && path === '/readyz') {
        const state = options.readiness?.() ?? { ready: true };
        sendJson(res, state.ready ? 200 : 503, { ready: state.ready, service: options.name, reason: state.reason });
        return;
      }
      if (limiter) {
        const wait = limiter.take(req.socket.remoteAddress ?? 'unknown');
        if (wait > 0) {
          sendJson(
            res,
            429,
            { error: 'rate_limited', code: ErrorCodes.RATE_LIMITED, message: 'too many requests from this address; retry later' },
            { 'retry-after': String(wait) },
          );
          return;
        }
      }
      const refusal = checkBearer(req, options.routeToken);
      if (refusal) {
        sendUnauthorized(res, refusal);
        return;
      }
      if (options.routes && (await options.routes(req, res))) return;
      sendJson(res, 404, { error: 'not_found', message: `no route for ${req.method} ${path}` });
    } catch (err) {
      logger.error('http handler failed', { err, url: req.url });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'internal error' });
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  logger.info('http listening', { url });
  return {
    port,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
