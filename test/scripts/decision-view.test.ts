import { describeDecision, explainArm, explainDeliver, explainReason } from '../../scripts/lib/decision-view';
import type { Decision } from '../../services/core/src';

const decision: Decision = {
  decisionId: 'd-1',
  customerId: 'c-7',
  triggerEventId: 'e-9',
  triggerType: 'nextact.ChatEvent',
  actionId: 'satisfaction_survey',
  channel: 'EMAIL',
  deliver: false,
  journeyStage: 'CHURN_RISK',
  experimentId: 'survey-timing-2026q4',
  experimentArm: 'CONTROL',
  probability: 1,
  score: 1.08,
  candidates: [
    { actionId: 'satisfaction_survey', eligible: true, propensity: 0.2, value: 2.9, contextWeight: 1, lever: 1, benefit: 0.5, score: 1.08 },
    { actionId: 'offer_discount', eligible: false, propensity: 0.304, value: 28, contextWeight: 1, lever: 1, benefit: 0, score: 8.512 },
  ],
  reasonCodes: [
    'TRIGGER:CHAT',
    'GATE_QUIET_HOURS:PUSH',
    'INELIGIBLE:offer_discount:STAGE_CHURN_RISK',
    'EXPERIMENT:survey-timing-2026q4:CONTROL',
    'EXPERIMENT_DEFERRED:survey-timing-2026q4:48h',
    'SELECTED:satisfaction_survey',
    'SOMETHING_NEW:x',
  ],
  policyVersion: 'p-1',
  eventTime: Date.UTC(2026, 10, 30, 12),
  decisionTime: Date.UTC(2026, 11, 1, 9),
  schemaVersion: 1,
  modelVersion: null,
  pAlive: null,
  predictedClvMinor: null,
};

describe('decision view', () => {
  it('spells out reason codes, keeping unknown ones as they are', () => {
    expect(explainReason('GATE_CONSENT_FAILED:EMAIL')).toBe('no consent for EMAIL');
    expect(explainReason('INELIGIBLE:offer_discount:STAGE_CHURN_RISK')).toBe('offer_discount not allowed here (STAGE_CHURN_RISK)');
    expect(explainReason('EXPERIMENT_DEFERRED:survey-timing-2026q4:48h')).toBe(
      'experiment survey-timing-2026q4: CONTROL gets this action 48h later, as a FOLLOW_UP decision',
    );
    expect(explainReason('SOMETHING_NEW:x')).toBe('SOMETHING_NEW:x');
  });

  it('says what the arm and deliver=false mean', () => {
    expect(explainArm(decision)).toBe('arm CONTROL of survey-timing-2026q4: the action is deferred (48h) and comes back as a FOLLOW_UP decision');
    expect(explainArm({ ...decision, experimentArm: 'NONE', experimentId: null, reasonCodes: [] })).toMatch(/^arm NONE: no experiment covers/);
    expect(explainArm({ ...decision, reasonCodes: [] })).toMatch(/held out, logged so uplift can be measured/);
    expect(explainDeliver(decision)).toMatch(/^deliver=false: control arm/);
    expect(explainDeliver({ ...decision, actionId: 'do_nothing', experimentArm: 'NONE' })).toMatch(/"do nothing" was the best action/);
    expect(explainDeliver({ ...decision, deliver: true })).toMatch(/^deliver=true: the channel system should act/);
  });

  it('prints every reason in full and every candidate with its score terms, best first', () => {
    const text = describeDecision(decision, { partition: 3, offset: '42' });
    for (const code of decision.reasonCodes) expect(text).toContain(code);
    expect(text).not.toContain('…');
    expect(text).toContain('(partition 3, offset 42)');
    const lines = text.split('\n');
    const offer = lines.findIndex((l) => l.includes('offer_discount') && l.includes('ineligible'));
    const chosen = lines.findIndex((l) => l.includes('* satisfaction_survey'));
    expect(offer).toBeGreaterThan(0);
    expect(chosen).toBeGreaterThan(offer); // sorted by score: 8.512 before 1.08
    expect(lines[chosen]).toContain('1.080 = 0.200 × 2.900 × 1 × 1 + 0.500');
    expect(text).toContain('trigger nextact.ChatEvent e-9 at 2026-11-30T12:00:00.000Z (event time)');
  });
});
