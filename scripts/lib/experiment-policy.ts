/**
 * The shipped policy with its experiments sized for a short run, shared by the demo and the
 * end-to-end ground-truth test so both measure the same thing:
 * - larger holdouts: of offer_discount itself, and at the decision points that lead to
 *   satisfaction_survey (after a PURCHASE) and others (BROWSE);
 * - a survey after complaints is a real candidate. As shipped, the policy believes such a survey
 *   hurts (benefit -1 when unhappy, no survey in CHURN_RISK) and almost never sends one (2-4 per
 *   run), which is the belief the shipped survey-timing experiment exists to test. Here the survey
 *   is eligible in every stage, weighted up at chat decision points and not penalised, and it is
 *   a service message (transactional: no marketing caps or suppression, as post-contact surveys
 *   often are). The 90-day survey fatigue rule is left to the 30-day cooldown (post-chat CSAT
 *   answers would otherwise block a third of the deferred surveys).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { repoRoot } from './services';

interface PolicyDocument {
  version: string;
  arbitration: { temperature: number };
  experiments: { id: string; triggers?: string[]; actions?: string[]; controlShare: number }[];
  actions: {
    id: string;
    transactional?: boolean;
    eligibility?: Record<string, unknown>;
    benefit?: Record<string, number>;
    contextWeights?: Record<string, number>;
  }[];
}

export const shippedPolicyFile = join(repoRoot, 'services/engine/policy/policy.yaml');

/** Writes the experiment-sized policy into `dir` and returns its path (for POLICY_FILE). Its version ends in `-<suffix>`. */
export function writeExperimentPolicy(dir: string, suffix: string): string {
  const policy = parse(readFileSync(shippedPolicyFile, 'utf8')) as PolicyDocument;
  policy.version = `${policy.version}-${suffix}`;
  for (const x of policy.experiments) {
    if (x.actions?.includes('offer_discount') || x.triggers?.some((t) => t === 'BROWSE' || t === 'PURCHASE')) x.controlShare = 0.5;
  }
  const survey = policy.actions.find((a) => a.id === 'satisfaction_survey');
  if (!survey) throw new Error(`${shippedPolicyFile} has no satisfaction_survey action`);
  survey.eligibility = {};
  survey.transactional = true;
  survey.benefit = { ...survey.benefit, unhappy: 0 };
  survey.contextWeights = { ...survey.contextWeights, CHAT: 6 };
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, stringify(policy));
  return file;
}

/**
 * A candidate to evaluate off-policy against `loggedFile`: the same actions and triggers with a
 * flatter softmax (more alternatives to the top-scored action), version `<logged>-candidate`.
 */
export function writeCandidatePolicy(loggedFile: string, dir: string, temperature = 1.5): string {
  const policy = parse(readFileSync(loggedFile, 'utf8')) as PolicyDocument;
  policy.version = `${policy.version}-candidate`;
  policy.arbitration.temperature = temperature;
  const file = join(dir, 'candidate-policy.yaml');
  writeFileSync(file, stringify(policy));
  return file;
}
