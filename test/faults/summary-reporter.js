// Prints the fault suite's one summary after the run: per fault, then the totals line
// "faults injected N, events in N, decisions out N, rows sunk N, duplicates N, lost N".
// Each fault test writes its counts to FAULTS_RESULTS_DIR (support/record.ts); the summary is
// also written there as summary.json for docs/faults.md.
const { existsSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const COUNTS = ['faultsInjected', 'eventsIn', 'decisionsOut', 'rowsSunk', 'duplicates', 'lost'];

class FaultSummaryReporter {
  onRunComplete(_contexts, results) {
    const dir = process.env.FAULTS_RESULTS_DIR;
    if (!dir || !existsSync(dir)) return;
    const faults = readdirSync(dir)
      .filter((f) => f.endsWith('.json') && f !== 'summary.json')
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
      .sort((a, b) => a.startedAt - b.startedAt);
    const totals = Object.fromEntries(COUNTS.map((k) => [k, faults.reduce((n, f) => n + (f[k] ?? 0), 0)]));
    const lines = [
      '',
      `fault suite summary (profile ${process.env.FAULTS_PROFILE || 'full'}, ${faults.length} faults, ${Math.round((Date.now() - results.startTime) / 1000)} s):`,
      ...faults.map(
        (f) =>
          `  ${f.name.padEnd(34)} injected ${String(f.faultsInjected).padStart(4)}  events in ${String(f.eventsIn).padStart(6)}  decisions out ${String(f.decisionsOut).padStart(6)}  rows sunk ${String(f.rowsSunk).padStart(6)}  duplicates ${f.duplicates}  lost ${f.lost}  ${f.seconds} s${f.note ? `  (${f.note})` : ''}`,
      ),
      `faults injected ${totals.faultsInjected}, events in ${totals.eventsIn}, decisions out ${totals.decisionsOut}, rows sunk ${totals.rowsSunk}, duplicates ${totals.duplicates}, lost ${totals.lost}`,
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    writeFileSync(
      join(dir, 'summary.json'),
      JSON.stringify({ profile: process.env.FAULTS_PROFILE || 'full', seconds: (Date.now() - results.startTime) / 1000, totals, faults }, null, 2),
    );
  }
}

module.exports = FaultSummaryReporter;
