/**
 * Exactly-once across kill -9: the sink runs as a child process and is killed twice between a
 * batch's BEFORE state and its AFTER state, once after ClickHouse took the rows and once before.
 * After a clean restart the tables hold every record on the topics once: no duplicate, no gap.
 * The test process opens the chdb folder only once no child runs (one process per folder).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClickHouse } from '../../src/store/clickhouse';
import { encodeAll, makeDecisions, makeEvents, produceAll, provisioned, testConfig, waitFor } from '../helpers';

jest.setTimeout(120_000);

interface Child {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

const repoRoot = join(__dirname, '..', '..', '..', '..');

function spawnSink(env: Record<string, string>): Child {
  const proc = spawn('npx', ['tsx', join(__dirname, 'sink-child.ts')], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group: npx -> tsx -> node, and kill -9 must reach the node that runs the sink.
    detached: true,
  });
  const lines: string[] = [];
  let partial = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    if (process.env.ANALYTICS_TEST_CHILD_LOG) appendFileSync(process.env.ANALYTICS_TEST_CHILD_LOG, parts.map((l) => `${proc.pid} ${l}\n`).join(''));
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, lines, exited };
}

function killGroup(child: Child, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.proc.pid!, signal);
  } catch {
    // Already gone.
  }
}

async function groupAlive(child: Child): Promise<boolean> {
  try {
    process.kill(-child.proc.pid!, 0);
    return true;
  } catch {
    return false;
  }
}

const has = (child: Child, msg: string) => child.lines.some((l) => l.includes(`"msg":"${msg}"`));

describe('ClickHouse sink crash recovery', () => {
  const config = testConfig('crash', { LOG_LEVEL: 'info' });
  let env: Awaited<ReturnType<typeof provisioned>>;
  const children: Child[] = [];

  beforeAll(async () => {
    env = await provisioned(config, 'analytics-crash-it');
  });
  afterAll(async () => {
    for (const c of children) killGroup(c, 'SIGKILL');
    await env?.cleanup();
  });

  it('leaves no duplicate and no gap after kill -9 mid-batch', async () => {
    const events = makeEvents(12_000, 500, 21);
    const decisions = makeDecisions(4_000, 500, 22);
    await produceAll(env.kafka, encodeAll(env.codec, env.topics, events, decisions));
    const childEnv = {
      NEXTACT_TOPIC_PREFIX: config.topicPrefix,
      NEXTACT_PARTITIONS: '3',
      CHDB_PATH: config.chdbPath,
      CLICKHOUSE_URL: '',
      CLICKHOUSE_DATABASE: config.clickhouseDatabase,
      LOG_LEVEL: 'info',
      ANALYTICS_SINK_MAX_ROWS: '1000',
      ANALYTICS_SINK_MAX_WAIT_MS: '300',
    };

    // 1. Killed after ClickHouse took the 3rd batch but before AFTER: the restart re-inserts it, deduplicated.
    const first = spawnSink({ ...childEnv, CRASH_AT_INSERT: '3', CRASH_MODE: 'after-insert' });
    children.push(first);
    await waitFor(
      'first crash point',
      async () => has(first, 'crash-point') || (first.proc.exitCode !== null && Promise.reject(new Error(first.lines.join('\n')))),
      60_000,
      50,
    );
    killGroup(first, 'SIGKILL');
    await first.exited;
    await waitFor('first group gone', async () => !(await groupAlive(first)), 10_000, 50);

    // 2. Killed with BEFORE recorded and the insert not yet done: the restart inserts it.
    const second = spawnSink({ ...childEnv, CRASH_AT_INSERT: '2', CRASH_MODE: 'before-insert' });
    children.push(second);
    await waitFor(
      'second crash point',
      async () => has(second, 'crash-point') || (second.proc.exitCode !== null && Promise.reject(new Error(second.lines.join('\n')))),
      60_000,
      50,
    );
    killGroup(second, 'SIGKILL');
    await second.exited;
    await waitFor('second group gone', async () => !(await groupAlive(second)), 10_000, 50);

    // 3. A clean run to the end: every partition's committed offset reaches its end.
    const third = spawnSink(childEnv);
    children.push(third);
    expect(await waitFor('third start', async () => has(third, 'child-started'), 60_000, 50)).toBe(true);
    // The second crash left a BEFORE: the third run re-forms that batch when its partition comes in.
    expect(await waitFor('third recovers', async () => has(third, 'recovering batch'), 30_000, 50)).toBe(true);
    const admin = await env.kafka.admin();
    const groupId = `${config.topicPrefix}analytics-sink`;
    try {
      for (const topic of [env.topics.customerEvents, env.topics.decisions]) {
        const marks = await admin.watermarks(topic);
        await waitFor(
          `commits on ${topic}`,
          async () => {
            const committed = await admin.groupOffsets(groupId, topic);
            return marks.every((m) => committed.find((c) => c.partition === m.partition)?.offset === m.high);
          },
          60_000,
        );
      }
    } finally {
      await admin.close();
    }
    // SIGTERM to the node process only (npx would forward it too, but not reliably wait).
    killGroup(third, 'SIGTERM');
    await third.exited;
    await waitFor('third to stop', async () => !(await groupAlive(third)), 30_000, 100).catch((err) => {
      throw new Error(`${err}\n${third.lines.slice(-20).join('\n')}`);
    });
    expect(has(third, 'sink stopped')).toBe(true);

    // No child runs now: the test may open the store.
    const store = createClickHouse(config);
    try {
      const admin2 = await env.kafka.admin();
      const marks = {
        events: await admin2.watermarks(env.topics.customerEvents),
        decisions: await admin2.watermarks(env.topics.decisions),
      };
      await admin2.close();
      for (const [table, unique] of [
        ['events', events.length],
        ['decisions', decisions.length],
      ] as const) {
        const [total] = await store.rows<{ n: number; ids: number }>(
          `SELECT count() AS n, uniqExact(${table === 'events' ? 'event_id' : 'decision_id'}) AS ids FROM nextact.${table}`,
        );
        expect(Number(total!.n)).toBe(unique);
        expect(Number(total!.ids)).toBe(unique);
        // Per partition: exactly the offsets 0 .. high-1, each once.
        const perPartition = await store.rows<{ p: number; n: number; offsets: number; max: string }>(
          `SELECT kafka_partition AS p, count() AS n, uniqExact(kafka_offset) AS offsets, toString(max(kafka_offset)) AS max FROM nextact.${table} GROUP BY p ORDER BY p`,
        );
        for (const m of marks[table]) {
          const row = perPartition.find((r) => Number(r.p) === m.partition);
          expect(Number(row?.n ?? 0)).toBe(Number(m.high));
          expect(Number(row?.offsets ?? 0)).toBe(Number(m.high));
          if (Number(m.high) > 0) expect(row?.max).toBe(String(Number(m.high) - 1));
        }
      }
      const [agg] = await store.rows<{ n: number }>('SELECT sum(decisions) AS n FROM nextact.decisions_daily_v');
      expect(Number(agg!.n)).toBe(decisions.length);
      const [befores] = await store.rows<{ n: number }>(`SELECT count() AS n FROM nextact.sink_state WHERE state = 'BEFORE'`);
      expect(Number(befores!.n)).toBeGreaterThan(3);
    } finally {
      await store.close();
    }
  });
});
