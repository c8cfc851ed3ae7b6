import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, type Logger, type RouteHandler, sendJson } from '@nextact/core';
import type { ClickHouse } from '../store/clickhouse';
import { attributionReport } from './attribution';
import { clvReport } from './clv';
import { htmlReportData } from './html/data';
import { renderHtmlReport } from './html/page';
import { opeReport, parsePolicy } from './ope';
import { satisfactionReport } from './satisfaction';
import { segmentsReport } from './segments';

/** Report names and their query parameters (all optional). */
export const reportParams = {
  attribution: ['windowHours', 'minPerArm'],
  clv: ['horizonDays', 'attributionDays', 'asOf', 'top', 'calibrationEnd', 'holdoutDays'],
  satisfaction: ['windowDays', 'minPerArm'],
  ope: ['windowHours', 'policy'],
  segments: ['asOf', 'windowHours', 'horizonDays', 'minPerArm', 'discountActions'],
} as const;

export type ReportName = keyof typeof reportParams;
export const reportNames = Object.keys(reportParams) as ReportName[];

class BadRequest extends Error {}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  // Beyond 2^53 a number is no longer exact, and the ClickHouse client refuses to send it.
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)))
    throw new BadRequest(`${name} must be a non-negative integer below 2^53, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Runs one report from URL query parameters; shared by the HTTP routes and the CLI's direct mode. */
export async function runReport(store: ClickHouse, name: ReportName, query: URLSearchParams): Promise<unknown> {
  try {
    switch (name) {
      case 'attribution':
        return await attributionReport(store, { windowHours: intParam(query, 'windowHours'), minPerArm: intParam(query, 'minPerArm') });
      case 'clv':
        return await clvReport(store, {
          horizonDays: intParam(query, 'horizonDays'),
          attributionDays: intParam(query, 'attributionDays'),
          asOf: intParam(query, 'asOf'),
          top: intParam(query, 'top'),
          calibrationEnd: intParam(query, 'calibrationEnd'),
          holdoutDays: intParam(query, 'holdoutDays'),
        });
      case 'segments':
        return await segmentsReport(store, {
          asOf: intParam(query, 'asOf'),
          windowHours: intParam(query, 'windowHours'),
          horizonDays: intParam(query, 'horizonDays'),
          minPerArm: intParam(query, 'minPerArm'),
          discountActions: query
            .get('discountActions')
            ?.split(',')
            .filter((a) => a !== ''),
        });
      case 'satisfaction':
        return await satisfactionReport(store, { windowDays: intParam(query, 'windowDays'), minPerArm: intParam(query, 'minPerArm') });
      case 'ope': {
        const raw = query.get('policy');
        let policy: ReturnType<typeof parsePolicy> | undefined;
        if (raw) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(raw);
          } catch {
            throw new BadRequest('policy must be JSON: {"STAGE": {"action": probability}}');
          }
          policy = parsePolicy(parsed);
        }
        return await opeReport(store, { windowHours: intParam(query, 'windowHours'), policy });
      }
    }
  } catch (err) {
    // Parameter and input problems are the caller's to fix: RangeError comes from validation.
    if (err instanceof RangeError) throw new BadRequest(err.message);
    throw err;
  }
}

export function isBadRequest(err: unknown): err is Error {
  return err instanceof BadRequest;
}

/** The self-contained HTML report (charts and data in one page). */
export async function htmlReport(store: ClickHouse): Promise<string> {
  return renderHtmlReport(await htmlReportData(store));
}

/** GET /report: the HTML page, behind whatever guards the JSON reports. */
async function serveHtml(req: IncomingMessage, res: ServerResponse, store: ClickHouse | null, logger: Logger): Promise<void> {
  if (req.method !== 'GET') {
    sendJson(res, 405, { error: 'method_not_allowed', message: 'the report is GET only' }, { allow: 'GET' });
    return;
  }
  if (!store) {
    sendJson(res, 503, { error: 'not_ready', message: 'migrations not applied yet' }, { 'retry-after': '1' });
    return;
  }
  try {
    const page = await htmlReport(store);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(page), 'cache-control': 'no-store' });
    res.end(page);
  } catch (err) {
    logger.error('html report failed', { err });
    sendJson(res, 500, { error: 'internal', code: ErrorCodes.SINK, message: 'report query failed' });
  }
}

/** GET /v1/reports/{attribution,clv,satisfaction,ope}: JSON; GET /report: the same as one HTML page. */
export function reportRoutes(store: () => ClickHouse | null, logger: Logger): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/report') {
      await serveHtml(req, res, store(), logger);
      return true;
    }
    const m = /^\/v1\/reports\/([a-z]+)$/.exec(url.pathname);
    if (!m) return false;
    const name = m[1] as ReportName;
    if (!reportNames.includes(name)) {
      sendJson(res, 404, { error: 'not_found', message: `no report ${name}; reports: ${reportNames.join(', ')}` });
      return true;
    }
    if (req.method !== 'GET') {
      sendJson(res, 405, { error: 'method_not_allowed', message: 'reports are GET only' }, { allow: 'GET' });
      return true;
    }
    const s = store();
    if (!s) {
      sendJson(res, 503, { error: 'not_ready', message: 'migrations not applied yet' }, { 'retry-after': '1' });
      return true;
    }
    try {
      sendJson(res, 200, await runReport(s, name, url.searchParams));
    } catch (err) {
      if (isBadRequest(err)) {
        sendJson(res, 400, { error: 'bad_request', code: ErrorCodes.VALIDATION, message: err.message });
        return true;
      }
      logger.error('report failed', { err, report: name });
      sendJson(res, 500, { error: 'internal', code: ErrorCodes.SINK, message: 'report query failed' });
    }
    return true;
  };
}
