/**
 * Registry basic auth passed through (issue 14, part 4): every request the codec makes carries
 * SCHEMA_REGISTRY_USERNAME/PASSWORD as HTTP Basic credentials, and wrong credentials fail with a
 * clear NXA_REGISTRY error that does not show the password. The local Apicurio offers basic auth
 * only through an OIDC server, so this runs against a small loopback stand-in that speaks the
 * Confluent-compatible calls the codec uses and refuses anything without the right credentials.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { codecFromConfig, ErrorCodes, errorCodeOf, loadConfig, silentLogger, topicNames } from '../../src';

const USER = 'registry-user';
const PASSWORD = 'registry-secret-123';

let server: Server;
let url: string;
const seen: { method: string; path: string; authorization: string | undefined }[] = [];
const schemas = new Map<number, string>();

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (c: Buffer) => {
      text += c.toString();
    });
    req.on('end', () => resolve(text));
  });
}

beforeAll(async () => {
  const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  server = createServer(async (req, res) => {
    const path = (req.url ?? '').replace(/^\/apis\/ccompat\/v7/, '');
    seen.push({ method: req.method ?? '', path, authorization: req.headers.authorization });
    const text = await body(req);
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify(json));
    };
    if (req.headers.authorization !== expected) return send(401, { error_code: 40101, message: 'Unauthorized' });
    if (path.startsWith('/config/')) return req.method === 'PUT' ? send(200, JSON.parse(text)) : send(404, { error_code: 40401, message: 'Subject not found' });
    const versions = /^\/subjects\/([^/]+)\/versions$/.exec(path);
    if (versions && req.method === 'POST') {
      const id = schemas.size + 1;
      schemas.set(id, (JSON.parse(text) as { schema: string }).schema);
      return send(200, { id });
    }
    const byId = /^\/schemas\/ids\/(\d+)$/.exec(path);
    if (byId && schemas.has(Number(byId[1]))) return send(200, { schema: schemas.get(Number(byId[1])) });
    return send(404, { error_code: 40400, message: `no route ${req.method} ${path}` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const topic = topicNames('auth-test.').customerEvents;

it('sends the credentials on every registry call: registration and schema lookups alike', async () => {
  seen.length = 0;
  const codec = codecFromConfig(loadConfig({ SCHEMA_REGISTRY_URL: url, SCHEMA_REGISTRY_USERNAME: USER, SCHEMA_REGISTRY_PASSWORD: PASSWORD }), silentLogger);
  await codec.register([{ topic, records: ['nextact.ChatEvent'] }]);
  const value = {
    eventId: 'e-1',
    customerId: 'c-1',
    eventTime: Date.UTC(2026, 0, 1),
    source: 'test',
    schemaVersion: 1,
    conversationId: 'conv-1',
    text: null,
    intent: 'ORDER_STATUS',
    sentiment: 0,
    resolved: true,
    handledBy: 'BOT',
  } as never;
  const bytes = codec.encode(topic, 'nextact.ChatEvent', value);
  // A second codec, as in another process: it knows no schema and must fetch the writer's.
  const reader = codecFromConfig(loadConfig({ SCHEMA_REGISTRY_URL: url, SCHEMA_REGISTRY_USERNAME: USER, SCHEMA_REGISTRY_PASSWORD: PASSWORD }), silentLogger);
  const decoded = await reader.decode(bytes);
  expect(decoded.name).toBe('nextact.ChatEvent');
  expect(seen.some((s) => s.method === 'POST' && s.path.endsWith('/versions'))).toBe(true);
  expect(seen.some((s) => s.method === 'GET' && s.path.startsWith('/schemas/ids/'))).toBe(true);
  const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  expect(seen.filter((s) => s.authorization !== expected)).toEqual([]);
});

it('fails with NXA_REGISTRY on wrong credentials, without showing the password', async () => {
  const codec = codecFromConfig(
    loadConfig({ SCHEMA_REGISTRY_URL: url, SCHEMA_REGISTRY_USERNAME: USER, SCHEMA_REGISTRY_PASSWORD: 'wrong-password-456' }),
    silentLogger,
  );
  const err = await codec.register([{ topic, records: ['nextact.BrowseEvent'] }]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(errorCodeOf(err)).toBe(ErrorCodes.REGISTRY);
  expect((err as Error).message).toMatch(/401|unauthori[sz]ed/i);
  expect((err as Error).message).not.toContain('wrong-password-456');
});
