import { request } from 'node:http';
import { Registry } from 'prom-client';
import { RateLimiter, startHttpService } from '../src/http';
import { silentLogger } from '../src/logger';

describe('RateLimiter', () => {
  it('allows a burst of twice the rate, then refills at the rate', () => {
    let now = 0;
    const limiter = new RateLimiter(5, 100, () => now);
    const first = Array.from({ length: 12 }, () => limiter.take('a'));
    expect(first.filter((w) => w === 0)).toHaveLength(10);
    expect(first[11]).toBeGreaterThan(0);
    // Another address has its own bucket.
    expect(limiter.take('b')).toBe(0);
    now += 1000;
    const refilled = Array.from({ length: 6 }, () => limiter.take('a'));
    expect(refilled.filter((w) => w === 0)).toHaveLength(5);
  });

  it('keeps at most maxClients buckets, evicting the least recently seen', () => {
    const now = 0;
    const limiter = new RateLimiter(1, 2, () => now);
    limiter.take('a');
    limiter.take('a');
    expect(limiter.take('a')).toBeGreaterThan(0);
    limiter.take('b');
    limiter.take('c'); // evicts a
    expect(limiter.take('a')).toBe(0);
  });
});

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    })
      .on('error', reject)
      .end();
  });
}

describe('startHttpService guards', () => {
  it('requires the route token on routes but not on the ops endpoints, and limits the rate', async () => {
    const routeToken = 'route-token-0123456789';
    const service = await startHttpService({
      name: 'guarded',
      host: '127.0.0.1',
      port: 0,
      metrics: new Registry(),
      logger: silentLogger,
      routeToken,
      rateLimit: 3,
      routes: (_req, res) => {
        res.writeHead(200).end('ok');
        return true;
      },
    });
    try {
      expect((await get(`${service.url}/healthz`)).status).toBe(200);
      expect((await get(`${service.url}/metrics`)).status).toBe(200);
      const missing = await get(`${service.url}/v1/reports/x`);
      expect(missing.status).toBe(401);
      expect(JSON.parse(missing.body)).toMatchObject({ error: 'unauthorized', code: 'NXA_UNAUTHORIZED' });
      expect((await get(`${service.url}/v1/reports/x`, { authorization: 'Bearer nope' })).status).toBe(401);
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await get(`${service.url}/v1/reports/x`, { authorization: `Bearer ${routeToken}` })).status);
      // 6 tokens in the bucket, 2 used by the refused requests above.
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(4);
      const limited = await get(`${service.url}/v1/reports/x`, { authorization: `Bearer ${routeToken}` });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // Ops endpoints are never limited: Prometheus must always be able to scrape.
      expect((await get(`${service.url}/metrics`)).status).toBe(200);
    } finally {
      await service.close();
    }
  });

  it('listens on loopback by default', async () => {
    const { loadConfig } = await import('../src/config');
    expect(loadConfig({}).httpHost).toBe('127.0.0.1');
  });
});
