/**
 * SQL injection through every report parameter, against embedded ClickHouse over HTTP: each
 * parameter of each report (routes.ts `reportParams`) gets the classic injection strings. Every
 * answer is 200 or a 400 that names the parameter, never 500; afterwards every table still holds
 * exactly what it held, and a canary table is still there. A source check backs it up: every value
 * interpolated into SQL text in the analytics sources is an identifier from `qualified()`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type HttpService, startHttpService } from '@nextact/core';
import { Registry } from 'prom-client';
import { reportNames, reportParams, reportRoutes } from '../../src/reports/routes';
import { type ClickHouse, createClickHouse } from '../../src/store/clickhouse';
import { migrate } from '../../src/store/migrations';
import { blankEventRow } from '../../src/store/rows';
import { testConfig } from '../helpers';

const injections = [
  '1; DROP TABLE nextact.events',
  '1 OR 1=1',
  "' OR '1'='1",
  "72') UNION ALL SELECT name FROM system.tables --",
  '72)--',
  '72/*',
  '{w:UInt32}',
  '72, window_hours = 1',
  '1e3',
  '-1',
  '0x10',
  '\uff17\uff12',
  '72\u0000',
  '4294967296',
  '$(touch /tmp/nextact-pwned)',
  "\\'; SELECT sleep(3); --",
  '`',
  'NULL',
  '72; TRUNCATE TABLE nextact.canary',
];

/** Injection strings where a JSON object is expected: in keys, in values, and not JSON at all. */
const policyInjections = [
  ...injections,
  JSON.stringify({ "AWARENESS') OR 1=1 --": { offer_discount: 0.5 } }),
  JSON.stringify({ AWARENESS: { "x'; DROP TABLE nextact.decisions; --": 0.5 } }),
  JSON.stringify({ AWARENESS: { offer_discount: "0.5' OR '1'='1" } }),
  JSON.stringify({ '{w:UInt32}': { '{x:String}': 1 } }),
];

const logger = createLogger({ level: 'error', bindings: { test: 'injection.int' } });

describe('report parameters against SQL injection', () => {
  const config = testConfig('injection');
  let store: ClickHouse;
  let http: HttpService;

  const counts = async () => {
    const rows = await store.rows<{ name: string; total_rows: string | null }>(
      `SELECT name, total_rows FROM system.tables WHERE database = {db:String} ORDER BY name`,
      { db: store.database },
    );
    const out: Record<string, number> = {};
    for (const r of rows)
      if (r.total_rows !== null) out[r.name] = Number((await store.rows<{ n: string }>(`SELECT count() AS n FROM ${store.database}.${r.name}`))[0]!.n);
    return out;
  };

  beforeAll(async () => {
    store = createClickHouse(config);
    await migrate(store, logger);
    await store.exec(`CREATE TABLE IF NOT EXISTS ${store.database}.canary (x UInt8) ENGINE = MergeTree ORDER BY x`);
    await store.insert('canary', [{ x: 1 }]);
    const at = Date.UTC(2026, 0, 5);
    await store.insert(
      'events',
      ['c-1', 'c-2', "c-3' OR '1'='1"].map((customerId, i) =>
        blankEventRow({
          event_id: `e-${i}`,
          customer_id: customerId,
          event_type: 'purchase',
          event_time: at + i,
          source: 'it',
          raw: '{}',
          kafka_partition: 0,
          kafka_offset: String(i),
        }),
      ),
    );
    http = await startHttpService({
      name: 'analytics',
      host: '127.0.0.1',
      port: 0,
      metrics: new Registry(),
      logger,
      routes: reportRoutes(() => store, logger),
    });
  });

  afterAll(async () => {
    await http?.close();
    await store?.close();
  });

  it('answers 200 or a 400 naming the parameter for every injection string in every parameter, and changes nothing', async () => {
    const before = await counts();
    expect(before.canary).toBe(1);
    expect(before.events).toBe(3);
    const statuses = new Map<number, number>();
    let requests = 0;
    for (const report of reportNames) {
      for (const param of reportParams[report]) {
        for (const value of param === 'policy' ? policyInjections : injections) {
          const res = await fetch(`${http.url}/v1/reports/${report}?${new URLSearchParams({ [param]: value })}`);
          const body = (await res.json()) as { error?: string; message?: string };
          requests++;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status !== 200) {
            expect({ report, param, value, status: res.status }).toEqual({ report, param, value, status: 400 });
            expect(body.message).toContain(param === 'policy' ? 'policy' : param);
          }
        }
      }
    }
    // Every parameter was tried, and the integer ones refuse every non-integer string.
    expect(requests).toBe(
      reportNames.reduce((n, r) => n + reportParams[r].reduce((m, p) => m + (p === 'policy' ? policyInjections : injections).length, 0), 0),
    );
    expect(statuses.get(400)).toBeGreaterThan(0);
    expect([...statuses.keys()].every((s) => s === 200 || s === 400)).toBe(true);
    expect(await counts()).toEqual(before);
  });

  // Not an injection (the value travels as a query parameter): an integer beyond 2^53 cannot be
  // serialised exactly, so it must be refused with a 400, not fail the query with a 500.
  it('refuses an integer parameter beyond 2^53 with a 400', async () => {
    const res = await fetch(`${http.url}/v1/reports/clv?asOf=99999999999999999999999`);
    expect(res.status).toBe(400);
  });

  it('interpolates nothing but identifiers into SQL text anywhere in the analytics sources', () => {
    const dir = join(__dirname, '../../src');
    const offenders: string[] = [];
    let checked = 0;
    for (const file of readdirSync(dir, { recursive: true }) as string[]) {
      if (!file.endsWith('.ts')) continue;
      const source = readFileSync(join(dir, file), 'utf8');
      // SQL fragments fixed at load time: a module constant that is a literal without interpolation.
      const constants = new Set([...source.matchAll(/^const ([A-Z][A-Z0-9_]*) = `([^`$]*)`;/gm)].map((m) => m[1]!));
      // Template literals that read like SQL.
      for (const literal of source.match(/`[^`]*`/g) ?? []) {
        if (!/\b(SELECT|INSERT|DELETE|ALTER|CREATE|DROP|TRUNCATE)\b/.test(literal)) continue;
        for (const [, expr] of literal.matchAll(/\$\{([^}]*)\}/g)) {
          checked++;
          const e = expr!.trim();
          // qualified() checks identifiers; `view`, `db`, `table`, `score`-built column names are identifiers built from it or from constants.
          if (/^qualified\(/.test(e) || /^(view|db|table|store\.database|score)$/.test(e)) continue;
          if (constants.has(e)) continue;
          // A fragment builder given only the database name: its own literals are scanned here too.
          if (/^[a-z]\w*\((db|store\.database)\)$/.test(e)) continue;
          offenders.push(`${file}: \${${expr}}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(offenders).toEqual([]);
  });
});
