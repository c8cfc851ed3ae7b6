import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, type Logger, NextActError } from '@nextact/core';
import { type ClickHouse, qualified } from './clickhouse';

/** Versioned SQL files `NNN_name.sql`, applied in order and recorded in `schema_migrations`. */
export const migrationsDir = join(__dirname, '..', '..', 'migrations');

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

/** Splits a file into statements: `;` at the end of a line ends one; `--` comment lines go. */
export function splitStatements(sql: string): string[] {
  const lines = sql.split('\n').filter((line) => !/^\s*--/.test(line));
  const out: string[] = [];
  let current: string[] = [];
  for (const line of lines) {
    current.push(line);
    if (/;\s*$/.test(line)) {
      const text = current.join('\n').trim().replace(/;\s*$/, '').trim();
      if (text) out.push(text);
      current = [];
    }
  }
  const rest = current.join('\n').trim();
  if (rest) out.push(rest);
  return out;
}

export function loadMigrations(dir: string = migrationsDir): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const seen = new Set<number>();
  return files.map((file) => {
    const m = /^(\d{3,})_([A-Za-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new NextActError(ErrorCodes.SINK, `migration file ${file} is not named NNN_name.sql`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new NextActError(ErrorCodes.SINK, `two migrations share version ${version}`);
    seen.add(version);
    const text = readFileSync(join(dir, file), 'utf8');
    return { version, name: m[2]!, checksum: createHash('sha256').update(text).digest('hex'), statements: splitStatements(text) };
  });
}

/** The database name is an identifier from config, substituted like a table name; values never are. */
const render = (statement: string, database: string): string => statement.replaceAll('{{db}}', database);

/**
 * Applies pending migrations in version order and records each; a second run applies nothing.
 * Statements are `IF NOT EXISTS`, so a run interrupted inside a migration can simply repeat it.
 */
export async function migrate(store: ClickHouse, logger: Logger, dir: string = migrationsDir): Promise<{ applied: number[] }> {
  const db = store.database;
  await store.exec(`CREATE DATABASE IF NOT EXISTS ${db}`);
  const table = qualified(db, 'schema_migrations');
  await store.exec(
    `CREATE TABLE IF NOT EXISTS ${table} (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY version`,
  );
  const done = new Map(
    (await store.rows<{ version: number; checksum: string }>(`SELECT version, checksum FROM ${table}`)).map((r) => [Number(r.version), r.checksum]),
  );
  const applied: number[] = [];
  for (const migration of loadMigrations(dir)) {
    const previous = done.get(migration.version);
    if (previous !== undefined) {
      if (previous !== migration.checksum) {
        logger.warn('applied migration changed on disk; not re-applying (add a new migration instead)', { version: migration.version, name: migration.name });
      }
      continue;
    }
    for (const statement of migration.statements) await store.exec(render(statement, db));
    await store.exec(`INSERT INTO ${table} (version, name, checksum) VALUES ({version:UInt32}, {name:String}, {checksum:String})`, {
      version: migration.version,
      name: migration.name,
      checksum: migration.checksum,
    });
    applied.push(migration.version);
    logger.info('migration applied', { version: migration.version, name: migration.name, statements: migration.statements.length });
  }
  return { applied };
}
