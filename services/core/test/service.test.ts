import { silentLogger } from '../src/logger';
import { runService, type ServiceContext } from '../src/service';

// Nothing listens on port 1: the shell must not touch Kafka or the registry unless asked to provision.
const env = { HTTP_HOST: '127.0.0.1', KAFKA_BROKERS: '127.0.0.1:1', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1', LOG_LEVEL: 'error' };

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('runService', () => {
  it('is live with a readiness reason and early routes while starting, serves its routes once started, stops last-first', async () => {
    const order: string[] = [];
    const during: Record<string, { status: number; body: Record<string, unknown> }> = {};
    const handle = await runService({
      name: 'probe',
      env,
      logger: silentLogger,
      port: () => 0,
      skipProvision: true,
      handleSignals: false,
      routesWhileStarting: (ctx) => (_req, res) => {
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ waiting: ctx.status.reason }));
        return true;
      },
      prepare: (ctx) => ctx.onStop(() => void order.push('prepared')),
      start: async (ctx: ServiceContext) => {
        ctx.notReady('waiting for the gate');
        const url = ctx.http.url;
        during.health = await get(`${url}/healthz`);
        during.ready = await get(`${url}/readyz`);
        during.early = await get(`${url}/v1/anything`);
        ctx.onStop(() => void order.push('started'));
        ctx.serve((_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ served: true }));
          return true;
        });
        return 'the service';
      },
    });
    expect(during.health).toEqual({ status: 200, body: { status: 'ok', service: 'probe' } });
    expect(during.ready).toEqual({ status: 503, body: { ready: false, service: 'probe', reason: 'waiting for the gate' } });
    expect(during.early).toEqual({ status: 503, body: { waiting: 'waiting for the gate' } });

    const url = handle.http.url;
    expect(handle.service).toBe('the service');
    expect((await get(`${url}/readyz`)).body).toEqual({ ready: true, service: 'probe' });
    expect(await get(`${url}/v1/anything`)).toEqual({ status: 200, body: { served: true } });
    await Promise.all([handle.stop(), handle.stop()]); // idempotent
    expect(order).toEqual(['started', 'prepared']);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('takes the readiness the service declares', async () => {
    let assigned = false;
    const handle = await runService({
      name: 'probe',
      env,
      logger: silentLogger,
      port: () => 0,
      skipProvision: true,
      handleSignals: false,
      start: (ctx) => ctx.readiness(() => (assigned ? { ready: true } : { ready: false, reason: 'waiting for partition assignment' })),
    });
    expect((await get(`${handle.http.url}/readyz`)).body.reason).toBe('waiting for partition assignment');
    assigned = true;
    expect((await get(`${handle.http.url}/readyz`)).status).toBe(200);
    await handle.stop();
  });

  it('closes its port and runs the stop steps when start fails, and rethrows', async () => {
    const err = new Error('boom');
    let url = '';
    let cleaned = false;
    await expect(
      runService({
        name: 'probe',
        env,
        logger: silentLogger,
        port: () => 0,
        skipProvision: true,
        handleSignals: false,
        start: (ctx) => {
          url = ctx.http.url;
          ctx.onStop(() => {
            cleaned = true;
          });
          return Promise.reject(err);
        },
      }),
    ).rejects.toBe(err);
    expect(cleaned).toBe(true);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
