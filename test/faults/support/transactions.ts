/**
 * Open transactions of a test's producers, from the broker's own view (`kafka-transactions list`).
 * A process killed with SIGKILL leaves its transaction open until the broker aborts it after the
 * transaction timeout (60 s), and until then read_committed readers stop at its first offset (the
 * last stable offset). A fault test reads its outputs only once they have settled.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { sleep } from '@nextact/core';
import { repoRoot } from '../../../scripts/lib/services';

const OPEN = new Set(['Ongoing', 'PrepareCommit', 'PrepareAbort']);

function listTransactions(stackEnv: NodeJS.ProcessEnv, brokers: string): Promise<{ id: string; state: string }[]> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [join(repoRoot, 'scripts', 'stack.sh'), 'kafka-tool', 'transactions', '--bootstrap-server', brokers, 'list'],
      { env: { ...stackEnv, KAFKA_TOOL_HEAP_OPTS: '-Xmx128m' }, cwd: repoRoot, timeout: 60_000 },
      (err, stdout) => {
        if (err) return reject(err);
        resolve(
          stdout
            .split('\n')
            .slice(1)
            .map((l) => l.trim().split(/\s+/))
            .filter((cols) => cols.length >= 4)
            .map((cols) => ({ id: cols[0]!, state: cols[3]! })),
        );
      },
    );
  });
}

/** Waits until no transaction whose id starts with `prefix` is open; returns how many were open at first. */
export async function waitTransactionsSettled(stackEnv: NodeJS.ProcessEnv, brokers: string, prefix: string, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let first: number | undefined;
  for (;;) {
    const open = (await listTransactions(stackEnv, brokers)).filter((t) => t.id.startsWith(prefix) && OPEN.has(t.state));
    first ??= open.length;
    if (open.length === 0) return first;
    if (Date.now() > deadline) throw new Error(`transactions still open after ${timeoutMs} ms: ${open.map((t) => `${t.id} ${t.state}`).join(', ')}`);
    await sleep(5_000);
  }
}
