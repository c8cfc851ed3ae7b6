import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
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

/** Reads a request body, refusing more than `maxBytes` before buffering it. */
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
 * Every service's HTTP face: /metrics, /healthz (the process is alive), /readyz (it can do its
 * job: consumer assigned, state restored), plus the service's own routes.
 */
export async function startHttpService(options: HttpServiceOptions): Promise<HttpService> {
  const { logger } = options;
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
