/**
 * Loads policy.yaml: YAML -> JSON Schema (ajv, defaults filled) -> semantic checks. Every problem is
 * reported as `file:line:column: path message`, located through yaml's node ranges, so an operator
 * can jump to the offending node.
 */
import { readFileSync } from 'node:fs';
import { ErrorCodes, NextActError } from '@nextact/core';
import Ajv, { type ErrorObject } from 'ajv';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { isValidTimeZone } from '../spec/time';
import { DO_NOTHING, type Policy } from '../spec/types';
import { policySchema } from './schema';

export interface PolicyIssue {
  line: number;
  column: number;
  /** Path of the offending node, e.g. actions[3].channels[0]. */
  path: string;
  message: string;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
const validate = ajv.compile(policySchema);

export function pathText(segments: readonly (string | number)[]): string {
  if (segments.length === 0) return '(root)';
  return segments.map((s, i) => (typeof s === 'number' || /^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** Walks the YAML AST along a JSON path; returns the deepest node found and, when asked, the key node of the last step. */
function locate(root: unknown, segments: readonly string[], pointAtKey: boolean): Node | undefined {
  let node = root as Node | undefined;
  let keyNode: Node | undefined;
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      keyNode = pair.key as Node;
      node = (pair.value as Node | null) ?? keyNode;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)] as Node | undefined;
      if (!item) break;
      keyNode = undefined;
      node = item;
    } else {
      break;
    }
  }
  return pointAtKey && keyNode ? keyNode : node;
}

function describe(error: ErrorObject): { segments: string[]; pointAtKey: boolean; message: string } {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const here = pathText(segments);
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'enum':
      return { segments, pointAtKey: false, message: `${here} must be one of ${(p.allowedValues as unknown[]).join(', ')}` };
    case 'required':
      return { segments, pointAtKey: false, message: `${here} is missing required property '${p.missingProperty}'` };
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      return { segments: [...segments, key], pointAtKey: true, message: `${pathText([...segments, key])} is not a known setting` };
    }
    case 'type':
      return { segments, pointAtKey: false, message: `${here} must be ${p.type === 'object' ? 'a mapping' : p.type === 'array' ? 'a list' : `a ${p.type}`}` };
    default:
      return { segments, pointAtKey: false, message: `${here} ${error.message ?? 'is invalid'}` };
  }
}

/** Checks JSON Schema cannot express. */
function semanticIssues(policy: Policy): { segments: string[]; message: string }[] {
  const issues: { segments: string[]; message: string }[] = [];
  const ids = new Set<string>();
  policy.actions.forEach((a, i) => {
    if (ids.has(a.id)) issues.push({ segments: ['actions', String(i), 'id'], message: `actions[${i}].id '${a.id}' is a duplicate` });
    ids.add(a.id);
    const none = a.channels.indexOf('NONE');
    if (a.id === DO_NOTHING && (a.channels.length !== 1 || none !== 0))
      issues.push({ segments: ['actions', String(i), 'channels'], message: `actions[${i}].channels must be exactly [NONE] for ${DO_NOTHING}` });
    if (a.id !== DO_NOTHING && none >= 0)
      issues.push({
        segments: ['actions', String(i), 'channels', String(none)],
        message: `actions[${i}].channels[${none}] NONE is reserved for ${DO_NOTHING}`,
      });
    const e = a.eligibility;
    if (e.minDaysSincePurchase !== undefined && e.maxDaysSincePurchase !== undefined && e.minDaysSincePurchase > e.maxDaysSincePurchase)
      issues.push({ segments: ['actions', String(i), 'eligibility'], message: `actions[${i}].eligibility minDaysSincePurchase exceeds maxDaysSincePurchase` });
  });
  if (!ids.has(DO_NOTHING))
    issues.push({ segments: ['actions'], message: `actions must include '${DO_NOTHING}' (channel NONE): doing nothing is always an option` });
  for (const key of Object.keys(policy.learning.actionPriors)) {
    if (!ids.has(key)) issues.push({ segments: ['learning', 'actionPriors', key], message: `learning.actionPriors.${key} names no action` });
  }
  policy.upliftSuppressions.forEach((rule, i) => {
    if (!ids.has(rule.action) || rule.action === DO_NOTHING)
      issues.push({
        segments: ['upliftSuppressions', String(i), 'action'],
        message: `upliftSuppressions[${i}].action '${rule.action}' names no action that can be suppressed`,
      });
  });
  const experiments = new Set<string>();
  policy.experiments.forEach((x, i) => {
    if (experiments.has(x.id)) issues.push({ segments: ['experiments', String(i), 'id'], message: `experiments[${i}].id '${x.id}' is a duplicate` });
    experiments.add(x.id);
    (x.actions ?? []).forEach((a, j) => {
      if (!ids.has(a))
        issues.push({ segments: ['experiments', String(i), 'actions', String(j)], message: `experiments[${i}].actions[${j}] '${a}' names no action` });
    });
  });
  if (!isValidTimeZone(policy.defaults.timeZone))
    issues.push({ segments: ['defaults', 'timeZone'], message: `defaults.timeZone '${policy.defaults.timeZone}' is not an IANA time zone` });
  return issues;
}

function fail(file: string, issues: PolicyIssue[]): never {
  const lines = issues.map((i) => `${file}:${i.line}:${i.column}: ${i.message}`);
  throw new NextActError(ErrorCodes.POLICY_INVALID, lines.join('\n'), { details: issues });
}

/** Parses and validates policy text; `file` only names the source in messages. */
export function parsePolicy(text: string, file: string): Policy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const position = (node: Node | undefined) => {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    fail(
      file,
      doc.errors.map((e) => ({
        line: e.linePos?.[0].line ?? 1,
        column: e.linePos?.[0].col ?? 1,
        path: '(yaml)',
        message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
      })),
    );
  }
  const data: unknown = doc.toJS();
  if (!validate(data)) {
    const seen = new Set<string>();
    const issues: PolicyIssue[] = [];
    for (const error of validate.errors ?? []) {
      const d = describe(error);
      const at = position(locate(doc.contents, d.segments, d.pointAtKey));
      const key = `${at.line}:${at.column}:${d.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      issues.push({ ...at, path: pathText(d.segments), message: d.message });
    }
    issues.sort((a, b) => a.line - b.line || a.column - b.column);
    fail(file, issues);
  }
  const policy = data as unknown as Policy;
  const semantic = semanticIssues(policy);
  if (semantic.length > 0) {
    fail(
      file,
      semantic.map((s) => ({ ...position(locate(doc.contents, s.segments, false)), path: pathText(s.segments), message: s.message })),
    );
  }
  return policy;
}

/** Reads and validates a policy file; throws NXA_POLICY_INVALID with file:line:column messages. */
export function loadPolicy(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new NextActError(ErrorCodes.POLICY_INVALID, `${path}: cannot read policy file (${(err as Error).message})`, { cause: err });
  }
  return parsePolicy(text, path);
}
