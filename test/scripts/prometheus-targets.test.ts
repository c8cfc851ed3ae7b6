import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prometheusTargetsDir, registerTarget, startService, stopService } from '../../scripts/lib/services';

describe('Prometheus target registration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nextact-targets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the targets folder from PROMETHEUS_TARGETS_DIR or the stack env file', () => {
    expect(prometheusTargetsDir({ PROMETHEUS_TARGETS_DIR: '/x/targets' })).toBe('/x/targets');
    const stack = join(dir, 'stack');
    expect(prometheusTargetsDir({ NEXTACT_STACK_DIR: stack })).toBeNull();
    mkdirSync(stack, { recursive: true });
    writeFileSync(join(stack, 'env'), "KAFKA_BROKERS=127.0.0.1:9092\nPROMETHEUS_TARGETS_DIR='/s/prometheus/targets'\n");
    expect(prometheusTargetsDir({ NEXTACT_STACK_DIR: stack })).toBe('/s/prometheus/targets');
  });

  it('writes one file_sd file per service and none for an unknown port', () => {
    const env = { PROMETHEUS_TARGETS_DIR: join(dir, 'targets') };
    const file = registerTarget('run-1-engine', 9111, { service: 'engine', run: 'run-1' }, env)!;
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([{ targets: ['127.0.0.1:9111'], labels: { service: 'engine', run: 'run-1' } }]);
    expect(readdirSync(join(dir, 'targets'))).toEqual(['run-1-engine.json']); // no temporary file left
    expect(registerTarget('run-1-simulator', 0, { service: 'simulator' }, env)).toBeNull();
  });

  it('registers a started service and unregisters it on a clean stop', async () => {
    const env = { ...process.env, PROMETHEUS_TARGETS_DIR: join(dir, 'svc-targets'), SIMULATOR_PORT: '0' };
    // The simulator with --help exits at once: enough to see the file come and go.
    const svc = startService('simulator', { env, port: 9999, args: ['--help'], logFile: join(dir, 'sim.log'), run: 'run-2' });
    expect(svc.targetsFile).toBe(join(dir, 'svc-targets', 'run-2-simulator.json'));
    expect(existsSync(svc.targetsFile!)).toBe(true);
    await svc.exited;
    // Exited on its own: still registered (a crash must stay visible to NextActServiceDown).
    expect(existsSync(join(dir, 'svc-targets', 'run-2-simulator.json'))).toBe(true);
    await stopService(svc);
    expect(existsSync(join(dir, 'svc-targets', 'run-2-simulator.json'))).toBe(false);
  });
});
