/**
 * What the domain derives from a policy, computed once per loaded policy instead of on every event
 * or decision: the contact retention window, action lookup by id, and the reason-code strings (so a
 * decision's reasons are shared strings, not concatenated anew for every candidate). A policy is not
 * changed once loaded (a new version is a new object), so a WeakMap keyed by it is safe.
 */
import type { Channel } from '@nextact/core';
import { type ActionSpec, DO_NOTHING, type Policy, TRIGGER_KINDS, type TriggerKind } from './types';
import { days, hours } from './units';

/** Reason codes of one action's gates (see gates.ts for what each means). */
export interface ActionReasons {
  suppressed: string;
  pending: string;
  cooldown: string;
  selected: string;
  eligibleOn: ReadonlyMap<Channel, string>;
  /** `INELIGIBLE:<action>:<why>`, made once per distinct why. */
  ineligible(why: string): string;
}

export interface ChannelReasons {
  consentFailed: string;
  unavailable: string;
  quietHours: string;
  capChannel: string;
}

export interface PolicyConstants {
  /** How long a delivered contact can still matter: the longest of cap windows, cooldowns and the fatigue window. */
  contactRetentionMs: number;
  fatigueWindowMs: number;
  actionsById: ReadonlyMap<string, ActionSpec>;
  doNothing: ActionSpec | undefined;
  actionReasons: ReadonlyMap<string, ActionReasons>;
  channelReasons: ReadonlyMap<Channel, ChannelReasons>;
  triggerReasons: Readonly<Record<TriggerKind, string>>;
  /** `EXPERIMENT:<id>:<arm>` per experiment id and arm. */
  experimentReasons: ReadonlyMap<string, Readonly<Record<'CONTROL' | 'TREATMENT', string>>>;
}

const CHANNELS: readonly Channel[] = ['EMAIL', 'PUSH', 'SMS', 'WEB', 'CALL_CENTRE', 'CHAT', 'NONE'];
const cache = new WeakMap<Policy, PolicyConstants>();

function actionReasons(action: ActionSpec): ActionReasons {
  const ineligible = new Map<string, string>();
  return {
    suppressed: `GATE_SUPPRESSED:${action.id}`,
    pending: `GATE_PENDING:${action.id}`,
    cooldown: `GATE_COOLDOWN:${action.id}`,
    selected: `SELECTED:${action.id}`,
    eligibleOn: new Map(CHANNELS.map((c) => [c, `ELIGIBLE:${action.id}:${c}`])),
    ineligible(why) {
      let code = ineligible.get(why);
      if (code === undefined) {
        code = `INELIGIBLE:${action.id}:${why}`;
        ineligible.set(why, code);
      }
      return code;
    },
  };
}

function derive(policy: Policy): PolicyConstants {
  const cp = policy.contactPolicy;
  const doNothing = policy.actions.find((a) => a.id === DO_NOTHING);
  return {
    contactRetentionMs: Math.max(
      days(cp.fatigueWindowDays),
      days(cp.caps.global.windowDays),
      ...Object.values(cp.caps.perChannel).map((c) => days(c.windowDays)),
      ...policy.actions.map((a) => hours(a.cooldownHours)),
    ),
    fatigueWindowMs: days(cp.fatigueWindowDays),
    actionsById: new Map(policy.actions.map((a) => [a.id, a])),
    doNothing,
    actionReasons: new Map(policy.actions.map((a) => [a.id, actionReasons(a)])),
    channelReasons: new Map(
      CHANNELS.map((c) => [
        c,
        {
          consentFailed: `GATE_CONSENT_FAILED:${c}`,
          unavailable: `GATE_CHANNEL_UNAVAILABLE:${c}`,
          quietHours: `GATE_QUIET_HOURS:${c}`,
          capChannel: `GATE_CAP_CHANNEL:${c}`,
        },
      ]),
    ),
    triggerReasons: Object.fromEntries(TRIGGER_KINDS.map((k) => [k, `TRIGGER:${k}`])) as Record<TriggerKind, string>,
    experimentReasons: new Map(policy.experiments.map((x) => [x.id, { CONTROL: `EXPERIMENT:${x.id}:CONTROL`, TREATMENT: `EXPERIMENT:${x.id}:TREATMENT` }])),
  };
}

export function constantsOf(policy: Policy): PolicyConstants {
  let constants = cache.get(policy);
  if (!constants) {
    constants = derive(policy);
    cache.set(policy, constants);
  }
  return constants;
}
