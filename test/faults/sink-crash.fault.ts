/**
 * Sink crash mid-insert (issue 14): the analytics sink runs as a child process and is killed with
 * SIGKILL again and again inside a ClickHouse insert (after ClickHouse took the rows but before the
 * sink recorded it, or before the insert ran), while events and decisions keep arriving. A clean
 * run then finishes the topics. Each table must hold every offset of every partition exactly once:
 * no gap, no duplicate row.
 *
 * ClickHouse *server* unavailability needs a server (CLICKHOUSE_URL); without one it is skipped
 * with a message. Embedded ClickHouse (chdb) lives in the sink's own process, so its crash is the
 * sink's crash, which this test covers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { sleep } from '@nextact/core';
import { repoRoot } from '../../scripts/lib/services';
import { createClickHouse } from '../../services/analytics/src/store/clickhouse';
import { encodeAll, makeDecisions, makeEvents, produceAll, provisioned, testConfig, waitFor } from '../../services/analytics/test/helpers';
import { prng } from '../support/prng';
import { recordFault, sized } from './support/record';

const KILLS = sized('FAULTS_SINK_KILLS', 3, 20);
const ROUNDS = KILLS + 1;
const EVENTS_PER_ROUND = sized('FAULTS_SINK_EVENTS_PER_ROUND', 1_200, 3_000);

interface SinkChild {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<void>;
}

function spawnSink(env: Record<string, string>): SinkChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'services/analytics/test/sink/sink-child.ts')], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true, // its own group: kill -9 reaches chdb's threads with it
  });
  const lines: string[] = [];
  let partial = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    if (lines.length > 2_000) lines.splice(0, lines.length - 2_000);
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return { proc, lines, exited };
}

function killGroup(child: SinkChild): void {
  try {
    process.kill(-child.proc.pid!, 'SIGKILL');
  } catch {
    // gone
  }
}

const has = (child: SinkChild, msg: string) => child.lines.some((l) => l.includes(`"msg":"${msg}"`));

describe('sink crash mid-insert', () => {
  const config = testConfig('fault-sink', { LOG_LEVEL: 'info' });
  let env: Awaited<ReturnType<typeof provisioned>>;
  const children: SinkChild[] = [];

  beforeAll(async () => {
    env = await provisioned(config, 'fault-sink');
  });
  afterAll(async () => {
    for (const c of children) killGroup(c);
    await env?.cleanup();
  });

  it(`${KILLS} kill -9 inside inserts under load, then no gap and no duplicate row`, async () => {
    const t0 = Date.now();
    const rnd = prng(1402);
    const childEnv = {
      NEXTACT_TOPIC_PREFIX: config.topicPrefix,
      NEXTACT_PARTITIONS: '3',
      CHDB_PATH: config.chdbPath,
      CLICKHOUSE_URL: '',
      CLICKHOUSE_DATABASE: config.clickhouseDatabase,
      LOG_LEVEL: 'info',
      ANALYTICS_SINK_MAX_ROWS: '500',
      ANALYTICS_SINK_MAX_WAIT_MS: '200',
    };
    let events = 0;
    let decisions = 0;
    const produceRound = async (round: number) => {
      const ev = makeEvents(EVENTS_PER_ROUND, 300, 100 + round);
      const dec = makeDecisions(Math.floor(EVENTS_PER_ROUND / 3), 300, 200 + round);
      await produceAll(env.kafka, encodeAll(env.codec, env.topics, ev, dec));
      events += ev.length;
      decisions += dec.length;
    };

    let kills = 0;
    const modes: string[] = [];
    for (let round = 0; round < KILLS; round++) {
      await produceRound(round);
      // The n-th insert of this process hangs inside the insert; then it is killed.
      const mode = rnd() < 0.5 ? 'after-insert' : 'before-insert';
      const child = spawnSink({ ...childEnv, CRASH_AT_INSERT: String(1 + Math.floor(rnd() * 4)), CRASH_MODE: mode });
      children.push(child);
      await waitFor(
        `crash point ${round}`,
        async () => has(child, 'crash-point') || (child.proc.exitCode !== null && Promise.reject(new Error(child.lines.slice(-20).join('\n')))),
        90_000,
        50,
      );
      // More load arrives while it hangs, as it would while a sink is stuck.
      const more = produceRound(ROUNDS + round);
      killGroup(child);
      await child.exited;
      await more;
      kills += 1;
      modes.push(mode);
    }

    // A clean run to the end.
    const last = spawnSink(childEnv);
    children.push(last);
    await waitFor('clean run to start', async () => has(last, 'child-started'), 90_000, 50);
    const admin = await env.kafka.admin();
    const groupId = `${config.topicPrefix}analytics-sink`;
    const marks: Record<string, { partition: number; high: string }[]> = {};
    try {
      for (const [table, topic] of [
        ['events', env.topics.customerEvents],
        ['decisions', env.topics.decisions],
      ] as const) {
        marks[table] = await admin.watermarks(topic);
        await waitFor(
          `commits on ${topic}`,
          async () => {
            const committed = await admin.groupOffsets(groupId, topic);
            return marks[table]!.every((m) => committed.find((c) => c.partition === m.partition)?.offset === m.high);
          },
          120_000,
        );
      }
    } finally {
      await admin.close();
    }
    last.proc.kill('SIGTERM');
    await last.exited;
    await waitFor('the clean run to stop', async () => {
      try {
        process.kill(-last.proc.pid!, 0);
        return false;
      } catch {
        return true;
      }
    });
    await sleep(200);

    // Per table and partition: each offset once, from 0 to the end.
    const store = createClickHouse(config);
    const found: Record<string, { rows: number; duplicates: number; gaps: number }> = {};
    try {
      for (const table of ['events', 'decisions'] as const) {
        const perPartition = await store.rows<{ p: number; n: string; offsets: string }>(
          `SELECT kafka_partition AS p, toString(count()) AS n, toString(uniqExact(kafka_offset)) AS offsets FROM nextact.${table} GROUP BY p`,
        );
        let rows = 0;
        let duplicates = 0;
        let gaps = 0;
        for (const m of marks[table]!) {
          const row = perPartition.find((r) => Number(r.p) === m.partition);
          const n = Number(row?.n ?? 0);
          const unique = Number(row?.offsets ?? 0);
          rows += n;
          duplicates += n - unique;
          gaps += Number(m.high) - unique;
        }
        found[table] = { rows, duplicates, gaps };
      }
    } finally {
      await store.close();
    }
    recordFault(
      {
        name: 'sink crash mid-insert (chdb)',
        faultsInjected: kills,
        eventsIn: events + decisions,
        decisionsOut: 0,
        rowsSunk: found.events!.rows + found.decisions!.rows,
        duplicates: found.events!.duplicates + found.decisions!.duplicates,
        lost: found.events!.gaps + found.decisions!.gaps,
        note: `kills ${modes.filter((m) => m === 'after-insert').length} after ClickHouse took the rows, ${modes.filter((m) => m === 'before-insert').length} before`,
      },
      t0,
    );
    expect(found.events).toEqual({ rows: events, duplicates: 0, gaps: 0 });
    expect(found.decisions).toEqual({ rows: decisions, duplicates: 0, gaps: 0 });
  });

  // Not built: no ClickHouse server runs here to take away (Debian's is 2018's 18.16).
  it.todo(
    'ClickHouse server unavailable (CLICKHOUSE_URL): back-pressure, then resume with no gap and no duplicate; needs a current ClickHouse server, which these machines lack (docs/faults.md)',
  );
});
