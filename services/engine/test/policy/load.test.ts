import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCodes, NextActError } from '@nextact/core';
import { loadPolicy, parsePolicy } from '../../src/policy/load';
import { FIXTURES, POLICY_PATH } from './helpers';

function errorOf(fn: () => unknown): NextActError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NextActError);
    return err as NextActError;
  }
  throw new Error('expected an error');
}

describe('loadPolicy', () => {
  it('loads the shipped policy with its version, catalogue and defaults filled in', () => {
    const policy = loadPolicy(POLICY_PATH);
    expect(policy.version).toBe('2026-11-23.4');
    expect(policy.actions.map((a) => a.id)).toEqual([
      'recommend_product',
      'offer_discount',
      'proactive_chat',
      'service_recovery_call',
      'satisfaction_survey',
      'content_nudge',
      'do_nothing',
    ]);
    const doNothing = policy.actions.find((a) => a.id === 'do_nothing')!;
    expect(doNothing).toMatchObject({ channels: ['NONE'], cost: 0, lever: 1, transactional: false, cooldownHours: 0, eligibility: {}, contextWeights: {} });
    expect(policy.actions.find((a) => a.id === 'service_recovery_call')!.transactional).toBe(true);
    expect(policy.contactPolicy.caps.perChannel.EMAIL).toEqual({ max: 2, windowDays: 7 });
    expect(policy.defaults.consent).toMatchObject({ SMS: false, CALL_CENTRE: false, EMAIL: true });
  });

  it('points at the line and column of a wrong enum value', () => {
    const file = path.join(FIXTURES, 'broken-channel.yaml');
    const err = errorOf(() => loadPolicy(file));
    expect(err.code).toBe(ErrorCodes.POLICY_INVALID);
    // Line 106 is `    channels: [EMIAL]` of offer_discount (actions[1]); EMIAL starts at column 16.
    expect(readFileSync(file, 'utf8').split('\n')[105]).toBe('    channels: [EMIAL]');
    expect(err.message).toBe(`${file}:106:16: actions[1].channels[0] must be one of EMAIL, PUSH, SMS, WEB, CALL_CENTRE, CHAT, NONE`);
    expect(err.details).toEqual([expect.objectContaining({ line: 106, column: 16, path: 'actions[1].channels[0]' })]);
  });

  it('points at the key of an unknown setting (a typo is not silently ignored)', () => {
    const file = path.join(FIXTURES, 'unknown-key.yaml');
    const err = errorOf(() => loadPolicy(file));
    expect(readFileSync(file, 'utf8').split('\n')[119]).toBe('    cooldownHour: 12');
    expect(err.message).toBe(`${file}:120:5: actions[2].cooldownHour is not a known setting`);
  });

  // The fixture is .yaml.txt so the repo's linter (which parses YAML) does not trip over the deliberate error.
  it('reports YAML syntax errors with their position', () => {
    const file = path.join(FIXTURES, 'syntax-error.yaml.txt');
    const err = errorOf(() => loadPolicy(file));
    expect(err.code).toBe(ErrorCodes.POLICY_INVALID);
    expect(err.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:67:3: Flow sequence`));
  });

  it('reports missing required settings, wrong types and out-of-range values at their nodes', () => {
    const text = readFileSync(POLICY_PATH, 'utf8')
      .replace('  temperature: 1.0', '  temperature: 0')
      .replace('    controlShare: 0.05', '    controlShare: "many"')
      .replace('    value: 15\n', '');
    const lines = text.split('\n');
    const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
    const err = errorOf(() => parsePolicy(text, 'policy.yaml'));
    const messages = err.message.split('\n');
    expect(messages).toContain(`policy.yaml:${lineOf('temperature: 0')}:16: arbitration.temperature must be > 0`);
    expect(messages).toContain(`policy.yaml:${lineOf('controlShare: "many"')}:19: experiments[4].controlShare must be a number`);
    // proactive_chat lost its value: reported at the start of that action's mapping.
    expect(messages).toContain(`policy.yaml:${lineOf('- id: proactive_chat')}:5: actions[2] is missing required property 'value'`);
    expect(messages).toHaveLength(3);
  });

  it('rejects duplicate action ids, a missing do_nothing and priors for unknown actions', () => {
    const text = readFileSync(POLICY_PATH, 'utf8')
      .replace('  - id: content_nudge', '  - id: proactive_chat')
      .replace(
        '  - id: do_nothing\n    description: Contact nobody. Always eligible; its benefit grows with contact fatigue.\n    channels: [NONE]',
        '  - id: wait\n    channels: [EMAIL]',
      );
    const err = errorOf(() => parsePolicy(text, 'p.yaml'));
    expect(err.message).toContain("actions[5].id 'proactive_chat' is a duplicate");
    expect(err.message).toContain("actions must include 'do_nothing'");
    expect(err.message).toContain('learning.actionPriors.content_nudge names no action');
  });

  it('rejects a non-positive learning half-life and experiments naming no action', () => {
    const shipped = readFileSync(POLICY_PATH, 'utf8');
    const halfLife = errorOf(() => parsePolicy(shipped.replace('halfLifeDays: 60', 'halfLifeDays: 0'), 'p.yaml'));
    expect(halfLife.message).toMatch(/^p\.yaml:\d+:\d+: learning\.halfLifeDays must be > 0$/);
    const unknown = errorOf(() => parsePolicy(shipped.replace('actions: [satisfaction_survey]', 'actions: [satisfaction_poll]'), 'p.yaml'));
    expect(unknown.message).toMatch(/^p\.yaml:\d+:\d+: experiments\[0\]\.actions\[0\] 'satisfaction_poll' names no action$/);
  });

  it('rejects an unknown default time zone', () => {
    const text = readFileSync(POLICY_PATH, 'utf8').replace('timeZone: Europe/Berlin', 'timeZone: Mars/Olympus_Mons');
    expect(errorOf(() => parsePolicy(text, 'p.yaml')).message).toMatch(/^p\.yaml:6:13: defaults\.timeZone 'Mars\/Olympus_Mons' is not an IANA time zone$/);
  });

  it('fails with NXA_POLICY_INVALID when the file is missing', () => {
    const err = errorOf(() => loadPolicy(path.join(FIXTURES, 'nope.yaml')));
    expect(err.code).toBe(ErrorCodes.POLICY_INVALID);
    expect(err.message).toContain('cannot read policy file');
  });
});
