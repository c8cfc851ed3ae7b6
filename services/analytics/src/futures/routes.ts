/**
 * The CLV routes beside the reports: the export of every customer, and fitting + publishing a
 * model on demand (POST /v1/models/clv?asOf=<ms>&horizonDays=<n>).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, type Logger, type RouteHandler, sendJson } from '@nextact/core';
import type { ClickHouse } from '../store/clickhouse';
import { handleClvExport } from './export';
import type { ClvModels } from './service';

function intParam(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new RangeError(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

export function clvRoutes(store: () => ClickHouse | null, models: () => ClvModels | null, logger: Logger): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const isExport = url.pathname === '/v1/reports/clv/customers';
    const isFit = url.pathname === '/v1/models/clv';
    if (!isExport && !isFit) return false;
    const s = store();
    if (!s) {
      sendJson(res, 503, { error: 'not_ready', message: 'migrations not applied yet' }, { 'retry-after': '1' });
      return true;
    }
    try {
      if (isExport) {
        if (req.method !== 'GET') {
          sendJson(res, 405, { error: 'method_not_allowed', message: 'GET only' }, { allow: 'GET' });
          return true;
        }
        return await handleClvExport(req, res, s);
      }
      if (req.method !== 'POST') {
        sendJson(res, 405, { error: 'method_not_allowed', message: 'POST fits and publishes a model' }, { allow: 'POST' });
        return true;
      }
      const m = models();
      if (!m) {
        sendJson(res, 503, { error: 'not_ready', message: 'models topic not provisioned yet' }, { 'retry-after': '1' });
        return true;
      }
      sendJson(res, 200, await m.fitAndPublish({ asOf: intParam(url, 'asOf'), horizonDays: intParam(url, 'horizonDays') }));
    } catch (err) {
      if (err instanceof RangeError) {
        if (!res.headersSent) sendJson(res, 400, { error: 'bad_request', code: ErrorCodes.VALIDATION, message: err.message });
        return true;
      }
      logger.error('clv route failed', { err, path: url.pathname });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', code: ErrorCodes.SINK, message: 'clv request failed' });
      else res.destroy(err as Error);
    }
    return true;
  };
}
