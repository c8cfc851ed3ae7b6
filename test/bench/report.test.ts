/** Pure parts of the bench: self time from a V8 CPU profile, and the table's ratios. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topSelfTime } from '../../scripts/bench/lib';
import { type Figures, figureNames, tableRows } from '../../scripts/bench/report';

describe('topSelfTime', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nextact-profile-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('charges each sample’s time to its function, leaving out idle time and frozen-process gaps', () => {
    const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 9, columnNumber: 0, scriptId: '0' });
    writeFileSync(
      join(dir, 'a.cpuprofile'),
      JSON.stringify({
        nodes: [
          { id: 1, callFrame: frame('(root)') },
          { id: 2, callFrame: frame('decide', 'file:///repo/services/engine/src/nba.ts') },
          { id: 3, callFrame: frame('(garbage collector)') },
          { id: 4, callFrame: frame('(idle)') },
          { id: 5, callFrame: frame('writeString', 'file:///repo/node_modules/avsc/lib/utils.js') },
        ],
        samples: [2, 2, 3, 4, 5, 2],
        // µs before each sample; the last one follows a 2 s SIGSTOP and is not work.
        timeDeltas: [1_000, 1_000, 2_000, 5_000, 1_000, 2_000_000],
      }),
    );
    const top = topSelfTime(dir);
    expect(top.map((t) => t.fn)).toEqual(['decide services/engine/src/nba.ts', '(garbage collector)', 'writeString ~/avsc/lib/utils.js:10']);
    expect(top.map((t) => t.pct)).toEqual([40, 40, 20]);
  });

  it('returns nothing for a folder without profiles', () => {
    expect(topSelfTime(join(dir, 'missing'))).toEqual([]);
  });
});

describe('tableRows', () => {
  const figures = Object.fromEntries(figureNames.map((n) => [n, null])) as Figures;

  it('divides a figure by what it is compared with, and leaves the ratio out when either is missing', () => {
    const rows = tableRows({ ...figures, engine_eps: 5_000, engine_eps_2_instances: 7_500, sink_rps: 10_000 }, { broker_consume_avro_rps: 100_000 });
    const by = Object.fromEntries(rows.map((r) => [r.figure, r]));
    expect(by.engine_eps).toMatchObject({ ceiling: 100_000, ratio: 0.05 });
    expect(by.engine_eps_2_instances).toMatchObject({ ceiling: 5_000, ratio: 1.5 });
    expect(by.sink_rps).toMatchObject({ ceiling: null, ratio: null });
    expect(rows.map((r) => r.figure)).toEqual([...figureNames]);
  });
});
