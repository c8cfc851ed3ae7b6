import { writeFileSync } from 'node:fs';
import { createLogger, errorMessage, loadConfig, silentLogger } from '@nextact/core';
import { render } from './reports/render';
import { htmlReport, type ReportName, reportNames, runReport } from './reports/routes';
import { createClickHouse } from './store/clickhouse';
import { migrate } from './store/migrations';

/**
 * `npx tsx services/analytics/src/report.ts [--json] [--html FILE] [report ...] [--param name=value ...]`
 * Asks the running analytics service (it owns the embedded store: one process per chdb folder);
 * when none answers, opens the store itself. With `npm run`, use `npm run -s report -- --json`:
 * npm's banner would otherwise precede the JSON.
 */
const usage = `usage: report [--json] [--html FILE] [${reportNames.join('|')} ...] [--param name=value ...]
  e.g. report attribution --param windowHours=48
       report ope --param 'policy={"CONSIDERATION":{"offer_discount":1}}'
       report --html /tmp/report.html     (one self-contained page with charts)
       report clv --calibration-end 2026-03-01 [--holdout-days 90]   (fit before, predict after, compare)
  every customer's CLV: GET /v1/reports/clv/customers?format=csv|jsonl on the analytics service`;

interface Args {
  json: boolean;
  html: string | null;
  reports: ReportName[];
  params: URLSearchParams;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, html: null, reports: [], params: new URLSearchParams() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') args.json = true;
    else if (a === '--html' || a.startsWith('--html=')) {
      const file = a === '--html' ? argv[++i] : a.slice('--html='.length);
      if (!file) throw new Error(`--html needs a file name\n${usage}`);
      args.html = file;
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    } else if (a === '--param' || a.startsWith('--param=')) {
      const kv = a === '--param' ? argv[++i] : a.slice('--param='.length);
      const eq = kv?.indexOf('=') ?? -1;
      if (!kv || eq < 1) throw new Error(`--param needs name=value\n${usage}`);
      args.params.set(kv.slice(0, eq), kv.slice(eq + 1));
    } else if (a === '--calibration-end') {
      const raw = argv[++i] ?? '';
      const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
      if (!Number.isFinite(ms)) throw new Error(`--calibration-end needs an ISO date or epoch ms, got ${JSON.stringify(raw)}\n${usage}`);
      args.params.set('calibrationEnd', String(ms));
    } else if (a === '--holdout-days') args.params.set('holdoutDays', argv[++i] ?? '');
    else if ((reportNames as string[]).includes(a)) args.reports.push(a as ReportName);
    else throw new Error(`unknown argument ${a}\n${usage}`);
  }
  if (args.reports.length === 0) args.reports = [...reportNames];
  return args;
}

async function fromService(base: string, args: Args, token: string | undefined): Promise<Record<string, unknown> | null> {
  try {
    const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1_000) });
    if (!health.ok) return null;
  } catch {
    return null;
  }
  const out: Record<string, unknown> = {};
  for (const name of args.reports) {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const res = await fetch(`${base}/v1/reports/${name}?${args.params}`, { headers, signal: AbortSignal.timeout(120_000) });
    const body = (await res.json()) as { message?: string };
    out[name] = res.ok ? body : { error: `${res.status} ${body.message ?? ''}` };
  }
  return out;
}

async function direct(args: Args): Promise<Record<string, unknown>> {
  const config = loadConfig();
  const store = createClickHouse(config);
  try {
    await migrate(store, silentLogger);
    const out: Record<string, unknown> = {};
    for (const name of args.reports) {
      try {
        out[name] = await runReport(store, name, args.params);
      } catch (err) {
        out[name] = { error: errorMessage(err) };
      }
    }
    return out;
  } finally {
    await store.close();
  }
}

/** The HTML page from the running service, else from the store directly. */
async function writeHtml(base: string, file: string, token: string | undefined): Promise<string> {
  let page: string | null = null;
  let source = base;
  try {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const res = await fetch(`${base}/report`, { headers, signal: AbortSignal.timeout(120_000) });
    if (res.ok) page = await res.text();
    else if (res.status !== 404) throw new Error(`${base}/report answered ${res.status}: ${await res.text()}`);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith(base)) throw err;
  }
  if (page === null) {
    source = 'the store directly';
    const store = createClickHouse(loadConfig());
    try {
      await migrate(store, silentLogger);
      page = await htmlReport(store);
    } finally {
      await store.close();
    }
  }
  writeFileSync(file, page);
  return source;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  const base = `http://127.0.0.1:${config.analyticsPort}`;
  if (args.html) {
    const source = await writeHtml(base, args.html, config.analyticsToken);
    process.stdout.write(`wrote ${args.html} (from ${source})\n`);
    return;
  }
  const fromHttp = await fromService(base, args, config.analyticsToken);
  const reports = fromHttp ?? (await direct(args));
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ source: fromHttp ? base : 'store', reports }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`(from ${fromHttp ? `the analytics service at ${base}` : 'the store directly'})\n\n`);
  for (const name of args.reports) {
    const report = reports[name] as { error?: string };
    process.stdout.write(report?.error ? `${name}: ${report.error}\n\n` : `${render(name, report)}\n`);
  }
}

main().catch((err) => {
  createLogger().error('report failed', { err: errorMessage(err) });
  process.exit(1);
});
