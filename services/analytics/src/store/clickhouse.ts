import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ClickHouseClient, type ClickHouseSettings, createClient } from '@clickhouse/client';
import { type Config, ErrorCodes, errorMessage, NextActError } from '@nextact/core';

// chdb publishes its connection under a package `exports` subpath, which the repo's
// `moduleResolution: node` cannot see; the types come from the file it maps to.
const { createChdbConnection } = require('chdb/connection') as typeof import('chdb/dist/connection');

/** The store: one `@clickhouse/client` code path for a server and for embedded chdb. */
export interface ClickHouse {
  client: ClickHouseClient;
  /** Database every table lives in (a validated identifier, see config). */
  database: string;
  mode: 'server' | 'embedded';
  /** Where the embedded store lives (embedded mode only). */
  path?: string;
  /** Rows of a parameterised query; values only ever travel as `query_params`. */
  rows<T>(query: string, params?: Record<string, unknown>): Promise<T[]>;
  /** A statement without result rows (DDL, INSERT ... SELECT with params). */
  exec(query: string, params?: Record<string, unknown>): Promise<void>;
  /**
   * Inserts rows synchronously (`async_insert=0`: async inserts do not deduplicate).
   * Every setting that matters is passed on every insert, because the chdb connection applies
   * settings as session `SET`s that would otherwise leak into the next statement.
   */
  insert(table: string, rows: readonly object[], dedupToken?: string): Promise<void>;
  close(): Promise<void>;
}

export type ClickHouseConfig = Pick<Config, 'clickhouseUrl' | 'clickhouseUser' | 'clickhousePassword' | 'clickhouseDatabase' | 'chdbPath'>;

/** `db.table`, from identifiers only (never values). */
export const qualified = (database: string, table: string): string => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
    throw new NextActError(ErrorCodes.SINK, `not an identifier: ${database}.${table}`);
  }
  return `${database}.${table}`;
};

export function createClickHouse(config: ClickHouseConfig): ClickHouse {
  const database = config.clickhouseDatabase;
  let client: ClickHouseClient;
  let path: string | undefined;
  if (config.clickhouseUrl) {
    client = createClient({
      url: config.clickhouseUrl,
      username: config.clickhouseUser,
      password: config.clickhousePassword ?? '',
      // The database is created by the migrations, so the connection itself must not require it.
      request_timeout: 60_000,
    });
  } else {
    path = resolve(config.chdbPath);
    mkdirSync(path, { recursive: true });
    try {
      client = createClient({ connection: createChdbConnection({ path }) } as unknown as Parameters<typeof createClient>[0]);
    } catch (err) {
      throw new NextActError(
        ErrorCodes.SINK,
        `cannot open embedded ClickHouse at ${path}: ${errorMessage(err)} (only one process may open a chdb folder; is the analytics service running?)`,
        { cause: err },
      );
    }
  }

  const wrap = (err: unknown, what: string): NextActError => {
    if (err instanceof NextActError) return err;
    const message = errorMessage(err);
    // Syntax/type errors do not get better by retrying; connection trouble does.
    const retriable = /ECONNREFUSED|ECONNRESET|socket|timeout|TIMEOUT|Too many|MEMORY_LIMIT/i.test(message);
    return new NextActError(ErrorCodes.SINK, `${what}: ${message}`, { retriable, cause: err });
  };

  const store: ClickHouse = {
    client,
    database,
    mode: config.clickhouseUrl ? 'server' : 'embedded',
    path,
    async rows<T>(query: string, params: Record<string, unknown> = {}) {
      try {
        const rs = await client.query({ query, query_params: params, format: 'JSONEachRow' });
        return (await rs.json()) as T[];
      } catch (err) {
        throw wrap(err, 'query failed');
      }
    },
    async exec(query: string, params: Record<string, unknown> = {}) {
      try {
        await client.command({ query, query_params: params, clickhouse_settings: { insert_deduplication_token: '', async_insert: 0 } });
      } catch (err) {
        throw wrap(err, 'statement failed');
      }
    },
    async insert(table: string, rows: readonly object[], dedupToken?: string) {
      if (rows.length === 0) return;
      const settings: ClickHouseSettings = {
        async_insert: 0,
        insert_deduplicate: 1,
        deduplicate_blocks_in_dependent_materialized_views: 1,
        // Batches stay below max_insert_block_size (1,048,576 rows), so one insert is one block.
        insert_deduplication_token: dedupToken ?? '',
      };
      try {
        await client.insert({ table: qualified(database, table), values: rows as object[], format: 'JSONEachRow', clickhouse_settings: settings });
      } catch (err) {
        throw wrap(err, `insert into ${table} failed`);
      }
    },
    close: () => client.close(),
  };
  return store;
}
