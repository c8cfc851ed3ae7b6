/**
 * NEXTACT_STACK=external with nothing reachable: the integration run stops before any suite with
 * one message per unreachable component (not one ECONNREFUSED per test).
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

const { unreachable } = require('../global-setup.js') as { unreachable: (env: NodeJS.ProcessEnv) => Promise<string[]> };

const repoRoot = join(__dirname, '..', '..');

/** A port that refuses connections: bound and closed again. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('external stack pre-check', () => {
  it('names each unreachable component once', async () => {
    const [k, r, c] = [await closedPort(), await closedPort(), await closedPort()];
    const problems = await unreachable({
      KAFKA_BROKERS: `127.0.0.1:${k}`,
      SCHEMA_REGISTRY_URL: `http://127.0.0.1:${r}/apis/ccompat/v7`,
      CLICKHOUSE_URL: `http://127.0.0.1:${c}`,
    });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(new RegExp(`^Kafka: no bootstrap server answers: 127\\.0\\.0\\.1:${k} \\(ECONNREFUSED\\)`));
    expect(problems[1]).toMatch(new RegExp(`^Schema registry: http://127\\.0\\.0\\.1:${r}/apis/ccompat/v7/subjects does not answer \\(ECONNREFUSED\\)`));
    expect(problems[2]).toMatch(new RegExp(`^ClickHouse: http://127\\.0\\.0\\.1:${c}/ping does not answer \\(ECONNREFUSED\\)`));
  });

  it('accepts a broker list where one bootstrap server answers, and embedded ClickHouse', async () => {
    const listening = createServer((s) => s.destroy());
    await new Promise<void>((r) => listening.listen(0, '127.0.0.1', r));
    const up = (listening.address() as { port: number }).port;
    const down = await closedPort();
    try {
      const problems = await unreachable({ KAFKA_BROKERS: `127.0.0.1:${down},127.0.0.1:${up}`, SCHEMA_REGISTRY_URL: `http://127.0.0.1:${down}` });
      expect(problems).toEqual([expect.stringMatching(/^Schema registry:/)]);
    } finally {
      await new Promise<void>((r) => listening.close(() => r()));
    }
  });

  it('stops the integration run with those messages and a non-zero exit', async () => {
    const [k, r, c] = [await closedPort(), await closedPort(), await closedPort()];
    const res = spawnSync(
      process.execPath,
      [join(repoRoot, 'node_modules/jest/bin/jest.js'), '--selectProjects', 'integration', 'services/analytics/test/attribution.int.test.ts'],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 90_000,
        env: {
          ...process.env,
          NEXTACT_STACK: 'external',
          KAFKA_BROKERS: `127.0.0.1:${k}`,
          SCHEMA_REGISTRY_URL: `http://127.0.0.1:${r}/apis/ccompat/v7`,
          CLICKHOUSE_URL: `http://127.0.0.1:${c}`,
        },
      },
    );
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('NEXTACT_STACK=external: 3 component(s) unreachable');
    for (const name of ['Kafka:', 'Schema registry:', 'ClickHouse:']) expect(res.stderr.split(`  - ${name}`)).toHaveLength(2);
    // Nothing ran: no suite result, no per-test connection errors.
    expect(res.stderr).not.toMatch(/PASS|FAIL/);
  });
});
