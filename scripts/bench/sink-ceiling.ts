/**
 * The sink's ceiling, run as its own process after the analytics service stopped (chdb allows one
 * process per data folder): the rows the sink wrote are exported, then bulk-inserted again into the
 * same table (its materialized views fire as they did for the sink) by chdb directly, once per
 * format. Prints one JSON line: rows and rows/s per format, and the best.
 *   node --import tsx scripts/bench/sink-ceiling.ts <chdb path> <database>
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';

async function main(): Promise<void> {
  const [path, database = 'nextact'] = process.argv.slice(2);
  if (!path) throw new Error('usage: sink-ceiling.ts <chdb path> [database]');
  const table = `${database}.events`;
  const session = new Session(path);
  const scratch = mkdtempSync(join(tmpdir(), 'nextact-sink-ceiling-'));
  // Every insert really writes: no dedup window dropping a repeated block, no async buffering.
  const settings = 'insert_deduplicate = 0, async_insert = 0';
  try {
    const rows = Number((await session.queryAsync(`SELECT count() FROM ${table}`, { format: 'TSV' })).text().trim());
    const exported: Record<string, Buffer> = {};
    for (const format of ['JSONEachRow', 'RowBinaryWithNamesAndTypes', 'Native']) {
      exported[format] = Buffer.from((await session.queryAsync(`SELECT * FROM ${table}`, { format })).bytes());
    }
    const results: Record<string, { rows: number; seconds: number; rowsPerSec: number }> = {};
    // Best of two tries each: the first insert of a process also pays one-off warm-up costs.
    const timed = async (name: string, insert: () => Promise<unknown>) => {
      let best = Number.POSITIVE_INFINITY;
      for (let attempt = 0; attempt < 2; attempt++) {
        await session.queryAsync(`TRUNCATE TABLE ${table}`);
        const t = performance.now();
        await insert();
        best = Math.min(best, (performance.now() - t) / 1000);
        const written = Number((await session.queryAsync(`SELECT count() FROM ${table}`, { format: 'TSV' })).text().trim());
        if (written !== rows) throw new Error(`${name}: ${written} rows after inserting ${rows}`);
      }
      results[name] = { rows, seconds: Math.round(best * 1000) / 1000, rowsPerSec: Math.round(rows / best) };
    };
    // JS objects through the session's inline INSERT: what a client without a raw path does.
    const objects = exported
      .JSONEachRow!.toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    await timed('objects', () => session.insert({ table, values: objects }));
    // Raw text bytes, parsed by the engine's own (multithreaded) parser.
    await timed('JSONEachRow', () =>
      session.insert({ table, values: exported.JSONEachRow!, format: 'JSONEachRow', settings: { insert_deduplicate: 0, async_insert: 0 } }),
    );
    // Binary formats: the raw insert takes text formats only, so these go through file().
    for (const format of ['RowBinaryWithNamesAndTypes', 'Native']) {
      const file = join(scratch, `rows.${format}`);
      writeFileSync(file, exported[format]!);
      await timed(format, () => session.queryAsync(`INSERT INTO ${table} SELECT * FROM file('${file}', '${format}') SETTINGS ${settings}`));
    }
    const best = Object.entries(results).sort((a, b) => b[1].rowsPerSec - a[1].rowsPerSec)[0]!;
    process.stdout.write(`${JSON.stringify({ rows, formats: results, best: best[0], bestRowsPerSec: best[1].rowsPerSec })}\n`);
  } finally {
    session.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`sink ceiling failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
