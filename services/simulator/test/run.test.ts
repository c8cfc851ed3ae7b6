import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { type CustomerEvent, loadConfig, silentLogger } from '@nextact/core';
import { createSimulatorMetrics } from '../src/metrics';
import { type Progress, runSimulation } from '../src/run';
import { type EventSink, GatewaySink, StdoutSink, toGatewayJson } from '../src/sinks';
import { World } from '../src/world';

const DAY = 86_400_000;

class MemorySink implements EventSink {
  readonly kind = 'memory';
  readonly batches: CustomerEvent[][] = [];
  async send(events: CustomerEvent[]) {
    this.batches.push(events);
  }
  async close() {}
  get events() {
    return this.batches.flat();
  }
}

const config = loadConfig({});

describe('runSimulation', () => {
  it('stops at the count and sends exactly what the world generates for the seed, in order', async () => {
    const sink = new MemorySink();
    const metrics = createSimulatorMetrics();
    const summary = await runSimulation({ config, seed: 42, customers: 300, count: 3_210, rate: 0, sink, logger: silentLogger, metrics, batchSize: 500 });
    expect(summary.events).toBe(3_210);
    expect(sink.events).toEqual(new World({ seed: 42, customers: 300 }).take(3_210));
    expect(Math.max(...sink.batches.map((b) => b.length))).toBe(500);
    const byType = Object.values(summary.byType).reduce((a, b) => a + b, 0);
    expect(byType).toBe(3_210);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(new RegExp(`nextact_simulator_events_total\\{type="browse",service="simulator"\\} ${summary.byType.browse}\\b`));
    expect(summary.groundTruth.conversionLift.offer_discount?.lift).toBe(0.15);
  });

  it('holds the configured rate', async () => {
    const sink = new MemorySink();
    const started = performance.now();
    const summary = await runSimulation({ config, seed: 1, customers: 100, count: 1_500, rate: 3_000, sink, logger: silentLogger });
    const seconds = (performance.now() - started) / 1000;
    expect(summary.events).toBe(1_500);
    // 1,500 events at 3,000/s take about half a second (one chunk of burst allowed).
    expect(seconds).toBeGreaterThan(0.4);
    expect(seconds).toBeLessThan(3);
  });

  it('stops after the duration and reports progress', async () => {
    const sink = new MemorySink();
    const progress: Progress[] = [];
    const summary = await runSimulation({
      config,
      seed: 2,
      customers: 100,
      durationSec: 1.2,
      rate: 500,
      sink,
      logger: silentLogger,
      progress: (p) => progress.push(p),
    });
    expect(summary.events).toBeGreaterThan(400);
    expect(summary.events).toBeLessThan(800);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress[0]?.sent).toBeGreaterThan(0);
    expect(progress[0]?.ratePerSec).toBeGreaterThan(200);
  });

  it('--sim-days: sends every world event before epoch + N days and none after, then stops', async () => {
    const sink = new MemorySink();
    const epochMs = Date.UTC(2026, 2, 1);
    const summary = await runSimulation({ config, seed: 5, customers: 40, simDays: 3, rate: 0, epochMs, sink, logger: silentLogger });
    const end = epochMs + 3 * DAY;
    const reference = new World({ seed: 5, customers: 40, epochMs });
    const expected: CustomerEvent[] = [];
    for (let e = reference.next(); e.value.eventTime < end; e = reference.next()) expected.push(e);
    expect(sink.events).toEqual(expected);
    expect(summary.events).toBe(expected.length);
    expect(summary.simDays).toBe(3);
    expect(summary.simEnd).toBe(new Date(end).toISOString());
    // The span is really covered: events on the last simulated day.
    expect(Math.max(...sink.events.map((e) => e.value.eventTime))).toBeGreaterThan(end - DAY);
  });

  it('--sim-days with --duration: the simulated clock is paced over the wall-clock duration', async () => {
    const sink = new MemorySink();
    const progress: Progress[] = [];
    const started = performance.now();
    const summary = await runSimulation({
      config,
      seed: 6,
      customers: 30,
      simDays: 4,
      durationSec: 1.6,
      rate: 0,
      sink,
      logger: silentLogger,
      progress: (p) => progress.push(p),
    });
    const seconds = (performance.now() - started) / 1000;
    expect(seconds).toBeGreaterThan(1.4);
    expect(seconds).toBeLessThan(5);
    expect(summary.simEnd).toBe(new Date(Date.UTC(2026, 0, 1) + 4 * DAY).toISOString());
    // After about one second (of 1.6) the clock is past the first simulated day and short of the end.
    const first = Date.parse(progress[0]?.simTime ?? '');
    expect(first).toBeGreaterThan(Date.UTC(2026, 0, 1) + DAY);
    expect(first).toBeLessThan(Date.UTC(2026, 0, 1) + 4 * DAY);
    expect(Math.max(...sink.events.map((e) => e.value.eventTime))).toBeLessThan(Date.UTC(2026, 0, 1) + 4 * DAY);
  });

  it('refuses a non-positive --sim-days', async () => {
    await expect(runSimulation({ config, seed: 3, customers: 10, simDays: 0, sink: new MemorySink(), logger: silentLogger })).rejects.toThrow(/simDays/);
  });

  it('fails the run when the sink fails', async () => {
    const failing: EventSink = {
      kind: 'broken',
      send: async () => {
        throw new Error('disk full');
      },
      close: async () => {},
    };
    await expect(runSimulation({ config, seed: 3, customers: 10, count: 100, rate: 0, sink: failing, logger: silentLogger })).rejects.toThrow('disk full');
  });
});

describe('GatewaySink', () => {
  let server: Server;
  let url: string;
  const requests: { auth: string | undefined; body: unknown }[] = [];
  let failFirst = 0;

  beforeAll(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      if (req.method !== 'POST' || req.url !== '/v1/events') {
        res.writeHead(404).end();
        return;
      }
      if (failFirst > 0) {
        failFirst--;
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"backpressure"}');
        return;
      }
      requests.push({ auth: req.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('posts batches in the gateway shape with the bearer token and retries back-pressure', async () => {
    const events = new World({ seed: 8, customers: 50 }).take(30);
    failFirst = 2;
    const sink = new GatewaySink({ url, token: 'secret-token-0123456789', logger: silentLogger });
    await sink.send(events);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.auth).toBe('Bearer secret-token-0123456789');
    expect(requests[0]?.body).toEqual(events.map(toGatewayJson));
    const body = requests[0]?.body as { type: string }[];
    expect(body[0]?.type).toBe('consent');
  });

  it('gives up with NXA_SINK on a refused request', async () => {
    const sink = new GatewaySink({ url: `${url}/nope`, logger: silentLogger });
    await expect(sink.send(new World({ seed: 8, customers: 5 }).take(1))).rejects.toMatchObject({ code: 'NXA_SINK', retriable: false });
  });
});

describe('StdoutSink', () => {
  it('writes one JSON line per event', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const events = new World({ seed: 4, customers: 20 }).take(12);
    await new StdoutSink(out).send(events);
    const lines = chunks.join('').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(events.map(toGatewayJson));
  });
});
