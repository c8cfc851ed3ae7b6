/**
 * Every customer's future as JSON Lines or CSV, streamed: GET /v1/reports/clv/customers
 * ?format=jsonl|csv&asOf=<ms>&horizonDays=<n>. Rows leave as the store streams them, so the export
 * has no customer limit and constant memory.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClickHouse } from '../store/clickhouse';
import { fitCustomerFutures, latestAsOf } from './fit';
import { type CustomerFutureRow, customerFutures } from './score';

export type ExportFormat = 'jsonl' | 'csv';

export const exportColumns: (keyof CustomerFutureRow)[] = [
  'customerId',
  'x',
  'tx',
  'T',
  'meanSpendMinor',
  'realisedMinor',
  'pAlive',
  'expectedPurchases',
  'expectedSpendMinor',
  'clvMinor',
];

/** RFC 4180: quote a field with a comma, quote or line break; double its quotes. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The export's lines (header first for CSV), each ending in a newline. */
export async function* exportLines(store: ClickHouse, options: { format: ExportFormat; asOf?: number; horizonDays?: number }): AsyncGenerator<string> {
  const asOf = options.asOf ?? (await latestAsOf(store));
  const { model } = await fitCustomerFutures(store, { asOf, horizonDays: options.horizonDays });
  if (options.format === 'csv') yield `${exportColumns.join(',')}\n`;
  for await (const row of customerFutures(store, model)) {
    if (options.format === 'csv') yield `${exportColumns.map((k) => csvField(row[k])).join(',')}\n`;
    else yield `${JSON.stringify({ ...row, modelVersion: model.version })}\n`;
  }
}

function intOrUndefined(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new RangeError(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Handles the export route; false for any other path. Validation errors are answered with 400 before streaming. */
export async function handleClvExport(req: IncomingMessage, res: ServerResponse, store: ClickHouse): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname !== '/v1/reports/clv/customers') return false;
  const format = (url.searchParams.get('format') ?? 'jsonl') as ExportFormat;
  let lines: AsyncGenerator<string>;
  let first: IteratorResult<string>;
  try {
    if (format !== 'jsonl' && format !== 'csv') throw new RangeError(`format must be jsonl or csv, got ${JSON.stringify(format)}`);
    lines = exportLines(store, { format, asOf: intOrUndefined(url.searchParams, 'asOf'), horizonDays: intOrUndefined(url.searchParams, 'horizonDays') });
    first = await lines.next();
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'bad_request', message: err.message }));
    return true;
  }
  res.writeHead(200, {
    'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
    'content-disposition': `attachment; filename="clv-customers.${format}"`,
  });
  // Back-pressure: wait for the socket to drain instead of buffering the whole export.
  const write = (chunk: string) => (res.write(chunk) ? Promise.resolve() : new Promise<void>((resolve) => res.once('drain', () => resolve())));
  let buffer = first.done ? '' : first.value;
  for await (const line of lines) {
    buffer += line;
    if (buffer.length >= 64 * 1024) {
      await write(buffer);
      buffer = '';
    }
  }
  if (buffer) await write(buffer);
  res.end();
  return true;
}
