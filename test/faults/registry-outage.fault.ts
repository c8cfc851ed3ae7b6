/**
 * Registry unavailable (issue 14): with the registry stopped, producers that already know their
 * schema ids (the gateway, a running producer) keep producing, and the engine keeps decoding from
 * the schemas it has cached; a new process that must reach the registry fails fast with a clear
 * NXA_REGISTRY error (after a few backed-off tries) or, as a service, waits unready and retries.
 * Nothing is dead-lettered because of the outage; once the registry is back, everything is decided
 * once and the state equals the rebuild from the log.
 */
import { join } from 'node:path';
import { codecFromConfig, ErrorCodes, errorCodeOf, isRetriable, loadConfig, silentLogger, sleep, topicNames } from '@nextact/core';
import { freePort, type ServiceProcess, startService, stopService, waitReady } from '../../scripts/lib/services';
import { fakeDomain } from '../../services/engine/test/runtime/fake-domain';
import {
  committedTotal,
  type EngineChild,
  httpGet,
  makeEvents,
  produceEvents,
  readTopic,
  spawnEngineChild,
  type TestStack,
  testStack,
  verifyRun,
  waitCaughtUp,
  waitFor,
} from '../../services/engine/test/runtime/helpers';
import { gatewayEvents, postEvents } from './support/load';
import { type PrivateStack, suiteStack } from './support/private-stack';
import { recordFault, sized, tally } from './support/record';

const EVENTS = sized('FAULTS_REGISTRY_EVENTS', 3_000, 20_000);

describe('registry unavailable', () => {
  let stack: TestStack;
  let instance: PrivateStack;
  const children: EngineChild[] = [];
  let gateway: ServiceProcess | undefined;

  beforeAll(async () => {
    instance = suiteStack();
    stack = await testStack('fault-registry', 4);
  });
  afterAll(async () => {
    for (const c of children) c.proc.kill('SIGKILL');
    if (gateway) await stopService(gateway);
    await instance.up('registry'); // leave the instance as the next fault expects it
    await stack?.cleanup();
  });

  it('producers and consumers carry on from cached schemas; fresh clients fail fast and clearly; nothing dead-lettered', async () => {
    const t0 = Date.now();
    const groupId = `${stack.prefix}engine`;
    const events = makeEvents(EVENTS, 200, 31, 'r');
    const third = Math.floor(events.length / 3);

    // Before the outage: an engine and a gateway up, each having used every schema it needs.
    const port = await freePort();
    gateway = startService('gateway', {
      env: { ...stack.env, GATEWAY_PORT: String(port), HTTP_RATE_LIMIT: '0', LOG_LEVEL: 'warn' },
      port,
      logFile: join(stack.stateDir, 'gateway.log'),
    });
    await waitReady(gateway, 90_000);
    const gatewayUrl = `http://127.0.0.1:${port}`;
    const engine = spawnEngineChild(stack, 'registry-a', { ENGINE_CHECKPOINT_INTERVAL_MS: '500' });
    children.push(engine);
    await engine.url;
    await produceEvents(stack, events.slice(0, third));
    const load = await postEvents(gatewayUrl, gatewayEvents(300, 50, 'gw-before'));
    await waitCaughtUp(stack, groupId, 90_000);

    // The outage.
    await instance.down('registry');
    const outageStart = Date.now();
    let faults = 1;

    // A running producer and the gateway keep producing (schema ids cached at provisioning).
    await produceEvents(stack, events.slice(third, 2 * third));
    await postEvents(gatewayUrl, gatewayEvents(300, 50, 'gw-during'), { load });
    // The running engine keeps deciding: it decodes from cached schemas.
    await waitCaughtUp(stack, groupId, 90_000);

    // A fresh client that must register fails fast, with the code and the registry named.
    const fresh = codecFromConfig(loadConfig({ ...stack.env }), silentLogger);
    const t1 = Date.now();
    const err = await fresh.register([{ topic: topicNames(stack.prefix).customerEvents, records: ['nextact.BrowseEvent'] }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    const failedAfterMs = Date.now() - t1;
    expect(errorCodeOf(err)).toBe(ErrorCodes.REGISTRY);
    expect(isRetriable(err)).toBe(true);
    expect((err as Error).message).toContain(stack.env.SCHEMA_REGISTRY_URL!.replace(/\/$/, ''));
    expect(failedAfterMs).toBeLessThan(30_000);

    // A restarted engine (kill -9 during the outage) cannot provision: it stays unready and
    // retries with backoff instead of dead-lettering what it cannot decode.
    engine.proc.kill('SIGKILL');
    await engine.exited;
    faults += 1;
    const second = spawnEngineChild(stack, 'registry-b', { ENGINE_CHECKPOINT_INTERVAL_MS: '500' });
    children.push(second);
    await produceEvents(stack, events.slice(2 * third));
    await sleep(5_000);
    const before = await committedTotal(stack, groupId);
    const outageMs = Date.now() - outageStart;

    // The registry comes back (its schemas live in Kafka: the same ids).
    await instance.up('registry');
    const url = await second.url;
    await waitFor('the restarted engine to be ready', async () => (await httpGet(`${url}/readyz`)).status === 200, 120_000);
    await waitCaughtUp(stack, groupId, 120_000);
    expect(await committedTotal(stack, groupId)).toBeGreaterThan(before);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    await stopService(gateway);
    gateway = undefined;

    const dead = [...(await readTopic(stack, stack.topics.deadLetter)).values()].flat();
    const decisions = [...(await readTopic(stack, stack.topics.decisions)).values()].flat();
    const decoded = await Promise.all(decisions.map(async (r) => (await stack.codec.decode(r.value)).value as { triggerEventId: string }));
    const triggered = decoded.map((d) => d.triggerEventId).filter((id) => !id.startsWith('timer:'));
    const expected = [...events.map((e) => e.value.eventId), ...load.accepted];
    const counts = tally(expected, triggered);
    recordFault(
      {
        name: 'registry unavailable',
        faultsInjected: faults,
        eventsIn: expected.length,
        decisionsOut: decisions.length,
        rowsSunk: 0,
        duplicates: counts.duplicates,
        lost: counts.lost,
        note: `outage ${(outageMs / 1000).toFixed(0)} s; fresh registration failed after ${failedAfterMs} ms; dead letters ${dead.length}; gateway retries ${load.retries}`,
      },
      t0,
    );
    expect(dead).toEqual([]);
    expect(counts).toMatchObject({ duplicates: 0, lost: 0 });
    expect(load.statuses['202']).toBeGreaterThan(0);
    await verifyRun(stack, fakeDomain(), events);
  });
});
