/**
 * Broker restart under load (issue 14): events go in through the gateway (a sender that retries
 * refused or unanswered requests with the same event ids), the engine decides, the analytics sink
 * stores events and decisions in embedded ClickHouse. Meanwhile the broker is restarted: stopped
 * gracefully and started again, and killed with SIGKILL and started again. Afterwards each accepted
 * event is on the topic once, has one decision, and has one row; each decision has one row.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, sleep } from '@nextact/core';
import { freePort, logTail, type ServiceProcess, startService, stopService, waitReady } from '../../scripts/lib/services';
import { createClickHouse } from '../../services/analytics/src/store/clickhouse';
import { type EngineChild, readTopic, spawnEngineChild, type TestStack, testStack, waitCaughtUp, waitFor } from '../../services/engine/test/runtime/helpers';
import { gatewayEvents, postEvents } from './support/load';
import { type PrivateStack, suiteStack } from './support/private-stack';
import { recordFault, sized, tally } from './support/record';
import { rowIds } from './support/sink';

const EVENTS = sized('FAULTS_BROKER_EVENTS', 4_000, 20_000);
const RESTARTS = sized('FAULTS_BROKER_RESTARTS', 2, 6);

describe('broker restart under load', () => {
  let stack: TestStack;
  let instance: PrivateStack;
  const services: ServiceProcess[] = [];
  const engines: EngineChild[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'nextact-fault-broker-'));

  beforeAll(async () => {
    instance = suiteStack();
    stack = await testStack('fault-broker', 4);
  });
  afterAll(async () => {
    for (const e of engines) e.proc.kill('SIGKILL');
    await Promise.all(services.map((s) => stopService(s)));
    await instance.up('kafka', 'registry').catch(() => {});
    if (!process.env.FAULTS_KEEP_TOPICS) await stack?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`gateway -> engine -> sink through ${RESTARTS} broker restarts: no loss, no duplicate`, async () => {
    const t0 = Date.now();
    const [gatewayPort, analyticsPort] = [await freePort(), await freePort()];
    const env = {
      ...stack.env,
      CHDB_PATH: join(dataDir, 'chdb'),
      CLICKHOUSE_URL: '',
      GATEWAY_PORT: String(gatewayPort),
      ANALYTICS_PORT: String(analyticsPort),
      ANALYTICS_CLV_FIT_MINUTES: '0',
      ANALYTICS_SINK_MAX_WAIT_MS: '300',
      HTTP_RATE_LIMIT: '0',
      LOG_LEVEL: 'warn',
    };
    const gateway = startService('gateway', { env, port: gatewayPort, logFile: join(dataDir, 'gateway.log') });
    const analytics = startService('analytics', { env, port: analyticsPort, logFile: join(dataDir, 'analytics.log') });
    services.push(gateway, analytics);
    const engine = spawnEngineChild(stack, 'broker-restart', { ENGINE_CHECKPOINT_INTERVAL_MS: '1000' });
    engines.push(engine);
    await Promise.all([waitReady(gateway, 120_000), waitReady(analytics, 120_000), engine.url]);

    // Load for the whole run: small batches, paced, retried with the same ids.
    const events = gatewayEvents(EVENTS, 300, 'b');
    let loading = true;
    const load = postEvents(`http://127.0.0.1:${gatewayPort}`, events, { batch: 20, pauseMs: 40, giveUpAfterMs: 180_000 }).finally(() => {
      loading = false;
    });

    // Restarts spread over the load: graceful and SIGKILL in turn, each after some traffic.
    let restarts = 0;
    const restartTimes: number[] = [];
    while (restarts < RESTARTS && loading) {
      await sleep(3_000);
      const t = Date.now();
      if (restarts % 2 === 0) await instance.down('kafka');
      else instance.kill('kafka');
      await sleep(2_000);
      await instance.up('kafka');
      restartTimes.push(Date.now() - t);
      restarts += 1;
    }
    const sent = await load;
    expect(restarts).toBe(RESTARTS);

    // Everything downstream catches up: the engine's commits, then the sink's on both topics.
    await waitCaughtUp(stack, groupId(stack), 180_000).catch(async (err) => {
      const ready = await engineReady(await engine.url);
      // In the summary too: a pipeline that does not recover is the finding.
      recordFault(
        {
          name: 'broker restart under load',
          faultsInjected: restarts,
          eventsIn: sent.accepted.length,
          decisionsOut: 0,
          rowsSunk: 0,
          duplicates: 0,
          lost: 0,
          note: `FAILED: the engine did not catch up after the restarts (${String(err).slice(0, 200)}); counts not taken`,
        },
        t0,
      );
      throw new Error(`${err}\nengine /readyz: ${ready}\nengine log:\n${engine.stderr.join('').slice(-4000)}`);
    });
    const admin = await stack.kafka.admin();
    try {
      for (const topic of [stack.topics.customerEvents, stack.topics.decisions]) {
        await waitFor(
          `sink commits on ${topic}`,
          async () => {
            const marks = await admin.watermarks(topic);
            const committed = await admin.groupOffsets(`${stack.prefix}analytics-sink`, topic);
            return marks.every((m) => m.high === '0' || committed.find((c) => c.partition === m.partition)?.offset === m.high);
          },
          180_000,
        ).catch((err) => {
          throw new Error(`${err}\n${logTail(analytics)}`);
        });
      }
    } finally {
      await admin.close();
    }
    engine.proc.kill('SIGTERM');
    await engine.exited;
    await Promise.all(services.map((s) => stopService(s)));

    // Counts: on the topic, in decisions, in ClickHouse.
    const onTopic = [...(await readTopic(stack, stack.topics.customerEvents)).values()].flat();
    const topicIds = await Promise.all(onTopic.map(async (r) => ((await stack.codec.decode(r.value)).value as { eventId: string }).eventId));
    const decisionRecords = [...(await readTopic(stack, stack.topics.decisions)).values()].flat();
    const decisions = await Promise.all(
      decisionRecords.map(async (r) => (await stack.codec.decode(r.value)).value as { decisionId: string; triggerEventId: string }),
    );
    const store = createClickHouse(loadConfig(env));
    let eventRows: string[];
    let decisionRows: string[];
    try {
      eventRows = await rowIds(store, 'events');
      decisionRows = await rowIds(store, 'decisions');
    } finally {
      await store.close();
    }
    const accepted = sent.accepted;
    const onLog = tally(accepted, topicIds);
    const decided = tally(
      accepted,
      decisions.map((d) => d.triggerEventId).filter((id) => !id.startsWith('timer:')),
    );
    const rows = tally(accepted, eventRows);
    const decisionRowCounts = tally(
      decisions.map((d) => d.decisionId),
      decisionRows,
    );
    recordFault(
      {
        name: 'broker restart under load',
        faultsInjected: restarts,
        eventsIn: accepted.length,
        decisionsOut: decisions.length,
        rowsSunk: eventRows.length + decisionRows.length,
        duplicates: onLog.duplicates + decided.duplicates + rows.duplicates + decisionRowCounts.duplicates,
        lost: onLog.lost + decided.lost + rows.lost + decisionRowCounts.lost,
        note: `restarts took ${restartTimes.map((ms) => Math.round(ms / 1000)).join('/')} s; gateway answers ${JSON.stringify(sent.statuses)}, ${sent.retries} retried`,
      },
      t0,
    );
    expect(new Set(accepted).size).toBe(events.length);
    expect(onLog).toMatchObject({ duplicates: 0, lost: 0 });
    expect(decided).toMatchObject({ duplicates: 0, lost: 0 });
    expect(rows).toMatchObject({ duplicates: 0, lost: 0 });
    expect(decisionRowCounts).toMatchObject({ duplicates: 0, lost: 0 });
    expect(decisionRows.length).toBe(decisions.length);
  });
});

const groupId = (stack: TestStack) => `${stack.prefix}engine`;

async function engineReady(url: string): Promise<string> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return `${res.status} ${await res.text()}`;
  } catch (err) {
    return String(err);
  }
}
