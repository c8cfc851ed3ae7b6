import { spawn } from 'node:child_process';
import { join } from 'node:path';

const child = join(__dirname, 'support', 'signal-child.ts');

/** Starts the child, signals it (twice, to prove the stop step runs once) and collects its exit. */
function runChild(env: Record<string, string>, signal: NodeJS.Signals): Promise<{ code: number | null; lines: { msg: string; stops?: number }[] }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n') && !p.killed) {
        p.kill(signal);
        setTimeout(() => p.kill(signal), 20);
      }
    });
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.once('error', reject);
    p.once('exit', (code) => {
      const lines = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; stops?: number });
      resolve({ code, lines });
    });
  });
}

describe('exitOnSignals', () => {
  jest.setTimeout(30_000);

  it.each(['SIGTERM', 'SIGINT'] as const)('runs the stop step once on %s and exits 0', async (signal) => {
    const { code, lines } = await runChild({ STOP_MS: '100' }, signal);
    expect(code).toBe(0);
    expect(lines.filter((l) => l.msg === 'stop step')).toHaveLength(1);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
  });

  it('exits 1 when the stop step fails', async () => {
    const { code, lines } = await runChild({ STOP_FAILS: '1' }, 'SIGTERM');
    expect(code).toBe(1);
    expect(lines.map((l) => l.msg)).toContain('shutdown failed');
  });

  it('exits 1 when the stop step outlasts the timeout', async () => {
    const { code, lines } = await runChild({ STOP_MS: '20000', TIMEOUT_MS: '300' }, 'SIGTERM');
    expect(code).toBe(1);
    expect(lines.map((l) => l.msg)).toContain('shutdown timed out; exiting');
  });
});
