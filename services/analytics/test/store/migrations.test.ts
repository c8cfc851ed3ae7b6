import { loadMigrations, splitStatements } from '../../src/store/migrations';

describe('migrations on disk', () => {
  it('splits statements at line-ending semicolons and drops comment lines', () => {
    expect(splitStatements('-- a; comment\nCREATE TABLE a (x UInt8);\n\nCREATE VIEW v AS\nSELECT 1;\n')).toEqual([
      'CREATE TABLE a (x UInt8)',
      'CREATE VIEW v AS\nSELECT 1',
    ]);
  });

  it('are versioned in order and use the database placeholder', () => {
    const all = loadMigrations();
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(all.map((m) => m.version)).toEqual([...all.map((m) => m.version)].sort((a, b) => a - b));
    for (const m of all) {
      expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
      for (const s of m.statements) expect(s).toMatch(/\{\{db\}\}\./);
    }
    const raw = all[0]!.statements.join('\n');
    for (const table of ['events', 'decisions', 'sink_state']) expect(raw).toContain(`{{db}}.${table}`);
    expect(raw.match(/non_replicated_deduplication_window = 1000/g)).toHaveLength(2);
  });
});
