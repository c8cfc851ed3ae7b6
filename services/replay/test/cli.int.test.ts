/** `npm run replay` as a user runs it: a process, exit codes, messages that say what to fix, throughput at the end. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeEvents, produceEvents, type TestStack, testStack } from '../../engine/test/runtime/helpers';

jest.setTimeout(90_000);

const repoRoot = join(__dirname, '../../..');
const policy = join(repoRoot, 'services/engine/policy/policy.yaml');
let stack: TestStack;
let dir: string;

beforeAll(async () => {
  stack = await testStack('replay-cli', 2);
  dir = mkdtempSync(join(tmpdir(), 'nextact-replay-cli-'));
  await produceEvents(stack, makeEvents(400, 20, 9), 200);
});

afterAll(async () => {
  await stack?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function replay(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), join(repoRoot, 'services/replay/src/main.ts'), ...args], {
    cwd: dir,
    env: { ...stack.env, LOG_LEVEL: 'error' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run replay', () => {
  it('runs a shadow to a file, with a progress line and the throughput at the end', () => {
    const out = join(dir, 'shadow.jsonl');
    const r = replay('shadow', '--policy', policy, '--all', '--out', out, '--run', 'cli');
    expect(r.stderr).toMatch(/shadow cli 100\.0% 400\/400 offsets/);
    expect(r.stderr).toMatch(/shadow: 400 records read \(400 events in range, \d+ decisions\) in [\d.]+ s: \d+(\.\d)?k?\/s; output .*shadow\.jsonl/);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n').filter(Boolean).length).toBeGreaterThan(50);
  });

  it('refuses unclear input with what to fix, and a non-zero exit', () => {
    const noRange = replay('shadow', '--policy', policy, '--out', join(dir, 'x.jsonl'));
    expect(noRange.code).toBe(2);
    expect(noRange.stderr).toMatch(/NXA_VALIDATION: no range given: every replay is bounded/);
    const empty = replay('shadow', '--policy', policy, '--offsets', '0:5-5', '--out', join(dir, 'x.jsonl'));
    expect(empty.stderr).toMatch(/"0:5-5" is empty/);
    const beyond = replay('shadow', '--policy', policy, '--offsets', '1:100000-', '--out', join(dir, 'x.jsonl'));
    expect(beyond.stderr).toMatch(/empty range: no offsets to replay/);
    const topic = replay('diff', '--policy', policy, '--all', '--prefix', 'no-such-prefix.');
    expect(topic.stderr).toMatch(/topic no-such-prefix\.(decisions|customer-events) does not exist/);
    const policyErr = replay('shadow', '--policy', join(repoRoot, 'package.json'), '--all', '--out', join(dir, 'x.jsonl'));
    expect(policyErr.stderr).toMatch(/NXA_POLICY_INVALID: .*package\.json:\d+:\d+: /);
    const command = replay('reshuffle');
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/unknown command "reshuffle"/);
  });
});
