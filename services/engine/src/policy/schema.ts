/**
 * JSON Schema of policy.yaml. Every object is closed (additionalProperties: false) so a typo is an
 * error with a line number rather than a silently ignored setting. Defaults are filled by ajv.
 */
import { BrowseKindSymbols, ChannelSymbols, ChatIntentSymbols, JourneyStageSymbols, SalesChannelSymbols } from '@nextact/core';
import { CONTACT_CHANNELS, TRIGGER_KINDS } from '../spec/types';

const channel = { type: 'string', enum: [...ChannelSymbols] };
const stage = { type: 'string', enum: [...JourneyStageSymbols] };
const trigger = { type: 'string', enum: [...TRIGGER_KINDS] };
const intent = { type: 'string', enum: [...ChatIntentSymbols] };
const browseKind = { type: 'string', enum: [...BrowseKindSymbols] };
const nonNegative = { type: 'number', minimum: 0 };
const positive = { type: 'number', exclusiveMinimum: 0 };
const list = (items: object, minItems = 0) => ({ type: 'array', items, minItems, uniqueItems: true });
const closed = (properties: Record<string, object>, required: string[] = Object.keys(properties)) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});
const clock = { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' };
const cap = closed({ max: { type: 'integer', minimum: 0, maximum: 50 }, windowDays: positive });
const prior = closed({ alpha: positive, beta: positive });
const perContactChannel = (value: object) =>
  closed(Object.fromEntries(CONTACT_CHANNELS.map((c) => [c, value])), []) as { type: string; properties: Record<string, object> };

const action = closed(
  {
    id: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' },
    description: { type: 'string' },
    channels: list(channel, 1),
    value: nonNegative,
    cost: { ...nonNegative, default: 0 },
    lever: { ...nonNegative, default: 1 },
    transactional: { type: 'boolean', default: false },
    cooldownHours: { ...nonNegative, default: 0 },
    eligibility: {
      ...closed(
        {
          stages: list(stage, 1),
          triggers: list(trigger, 1),
          openComplaint: { type: 'boolean' },
          unhappy: { type: 'boolean' },
          hasInterests: { type: 'boolean' },
          minPurchases: { type: 'integer', minimum: 0 },
          minDaysSincePurchase: nonNegative,
          maxDaysSincePurchase: nonNegative,
          minDaysSinceSurvey: nonNegative,
        },
        [],
      ),
      default: {},
    },
    benefit: {
      ...closed({ base: { type: 'number', default: 0 }, unhappy: { type: 'number', default: 0 }, perRecentContact: { type: 'number', default: 0 } }, []),
      default: {},
    },
    contextWeights: {
      ...closed(Object.fromEntries(TRIGGER_KINDS.map((t) => [t, nonNegative])), []),
      default: {},
    },
  },
  ['id', 'channels', 'value'],
);

export const policySchema = closed(
  {
    version: { type: 'string', minLength: 1, maxLength: 64 },
    defaults: closed({
      timeZone: { type: 'string', minLength: 1 },
      consent: closed(Object.fromEntries(CONTACT_CHANNELS.map((c) => [c, { type: 'boolean' }]))),
    }),
    journey: closed({
      considerationKinds: list(browseKind, 1),
      inactivityDays: positive,
      // CHURN_RISK is excluded: inactivity moves *into* it, so it must not re-arm the timer.
      inactivityStages: list({ type: 'string', enum: JourneyStageSymbols.filter((s) => s !== 'CHURN_RISK') }),
      purchaseStageHours: positive,
      advocacy: closed({ minPurchases: { type: 'integer', minimum: 1 }, minNps: { type: 'integer', minimum: 0, maximum: 10 } }),
      frequencyHalfLifeDays: positive,
      openIntentMaxDays: positive,
    }),
    mood: closed({
      complaintIntents: list(intent),
      negativeSentimentBelow: { type: 'number', minimum: -1, maximum: 1 },
      detractorNpsAtMost: { type: 'integer', minimum: -1, maximum: 10 },
      unhappyCsatAtMost: { type: 'integer', minimum: 0, maximum: 5 },
      memoryDays: positive,
    }),
    triggers: closed({
      browseKinds: list(browseKind),
      chat: closed({ sentimentBelow: { type: 'number', minimum: -1, maximum: 1 }, unresolvedIntents: list(intent) }),
      purchase: { type: 'boolean' },
      survey: closed({ npsAtMost: { type: 'integer', minimum: -1, maximum: 10 }, csatAtMost: { type: 'integer', minimum: 0, maximum: 5 } }),
      inactivity: { type: 'boolean' },
    }),
    contactPolicy: closed({
      quietHours: closed({ start: clock, end: clock, channels: list(channel) }),
      liveChannels: closed({ channels: list(channel), triggers: list(trigger) }),
      caps: closed({
        perChannel: perContactChannel(cap),
        global: closed({ ...cap.properties, channels: list(channel, 1) }),
      }),
      suppression: closed({ dismissedDays: nonNegative, complainedDays: nonNegative }),
      fatigueWindowDays: positive,
    }),
    arbitration: closed({ benefitWeight: nonNegative, temperature: positive }),
    learning: closed(
      {
        prior,
        actionPriors: { type: 'object', additionalProperties: prior, default: {} },
        halfLifeDays: positive,
      },
      ['prior'],
    ),
    experiments: list(
      closed(
        {
          id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' },
          description: { type: 'string' },
          controlShare: { type: 'number', minimum: 0, maximum: 1 },
          triggers: list(trigger, 1),
          stages: list(stage, 1),
          actions: list({ type: 'string' }, 1),
          afterComplaintWithinHours: positive,
          control: {
            oneOf: [{ type: 'string', const: 'holdout' }, closed({ deferHours: positive })],
            default: 'holdout',
          },
        },
        ['id', 'controlShare'],
      ),
    ),
    actions: { type: 'array', items: action, minItems: 1 },
    upliftSuppressions: {
      ...list(
        closed(
          {
            action: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' },
            stage,
            acquisitionChannel: { type: 'string', enum: [...SalesChannelSymbols] },
            mainCategory: { type: 'string', minLength: 1 },
            note: { type: 'string' },
          },
          ['action'],
        ),
      ),
      default: [],
    },
    customerFutures: closed(
      {
        churnRisk: closed(
          {
            pAliveBelow: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
            minRepeatPurchases: { type: 'integer', minimum: 1, default: 1 },
          },
          ['pAliveBelow'],
        ),
        valueTerm: closed(
          {
            source: { type: 'string', const: 'clv' },
            referenceClvMinor: positive,
            maxMultiplier: { type: 'number', minimum: 1, default: 5 },
          },
          ['source', 'referenceClvMinor'],
        ),
      },
      [],
    ),
  },
  ['version', 'defaults', 'journey', 'mood', 'triggers', 'contactPolicy', 'arbitration', 'learning', 'experiments', 'actions'],
);
