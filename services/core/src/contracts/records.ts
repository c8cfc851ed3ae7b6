import { types as avroTypes, Type } from 'avsc';
import { type FieldError, ValidationError } from '../errors';
import { type RecordName, type RecordTypes, schemas } from './generated';

/** The customer actions that share the customer-events topic (one total order per customer). */
export const customerEventTypes = {
  browse: 'nextact.BrowseEvent',
  chat: 'nextact.ChatEvent',
  purchase: 'nextact.PurchaseEvent',
  survey: 'nextact.SurveyResponse',
  outcome: 'nextact.ActionOutcome',
  consent: 'nextact.ConsentChange',
  // Not accepted from ingest (the gateway has its own authenticated endpoint for it).
  erasure: 'nextact.ErasureRequest',
} as const satisfies Record<string, RecordName>;

export type CustomerEventKind = keyof typeof customerEventTypes;
export type CustomerEventName = (typeof customerEventTypes)[CustomerEventKind];
export const customerEventNames = Object.values(customerEventTypes) as CustomerEventName[];

/** A decoded customer event, discriminated by its record name. */
export type CustomerEvent = { [N in CustomerEventName]: { name: N; value: RecordTypes[N] } }[CustomerEventName];

type EnumInternals = { _indices: Record<string, number> };
type Hook = (value: unknown, type: Type) => void;
/**
 * avsc looks an enum's symbols up in a plain object: "constructor" or "toString" passes as a
 * symbol (and is cloned or encoded as another one), and an object whose toString is not
 * callable throws a TypeError. This one accepts, and encodes, only a string that is one of its own
 * symbols.
 */
class StrictEnumType extends avroTypes.EnumType {
  _check(value: unknown, _flags: unknown, hook?: Hook): boolean {
    const ok = typeof value === 'string' && Object.hasOwn((this as unknown as EnumInternals)._indices, value);
    if (!ok && hook) hook(value, this);
    return ok;
  }
  _write(tap: unknown, value: unknown): void {
    if (!this._check(value, undefined)) throw new Error(`invalid ${String(this.name)}: ${JSON.stringify(value)}`);
    (avroTypes.EnumType.prototype as unknown as { _write(tap: unknown, value: unknown): void })._write.call(this, tap, value);
  }
}

const types = new Map<RecordName, Type>();
/** Parsed Avro types, built once (re-parsing per message is the classic avsc loss). */
export function avroType(name: RecordName): Type {
  let type = types.get(name);
  if (!type) {
    type = Type.forSchema(schemas[name] as never, {
      typeHook: (schema, opts) =>
        typeof schema === 'object' && (schema as { type?: unknown }).type === 'enum'
          ? (new StrictEnumType(schema as never, opts as never) as unknown as Type)
          : undefined,
    });
    types.set(name, type);
  }
  return type;
}

export function isRecordName(name: string): name is RecordName {
  return Object.hasOwn(schemas, name);
}

/** Event times: any history from 1970 on, and at most this far past now (clock skew). */
export const DEFAULT_EVENT_TIME_SKEW_MS = 86_400_000;

export interface EventTimeBounds {
  /** The current time (default Date.now()); a parameter so tests and replays can fix it. */
  now?: number;
  /** How far past `now` an event time may lie (default 1 day; config EVENT_TIME_MAX_SKEW_MS). */
  maxSkewMs?: number;
}

function skewText(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} day(s)`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} hour(s)`;
  return `${ms} ms`;
}

function describeType(type: Type): string {
  const t = type as Type & { symbols?: string[]; types?: Type[]; itemsType?: Type };
  switch (type.typeName) {
    case 'enum':
      return `one of ${t.symbols?.join(', ')}`;
    case 'union:unwrapped':
    case 'union:wrapped':
      return (t.types ?? []).map(describeType).join(' or ');
    case 'int':
      return 'integer (32-bit)';
    case 'long':
      return 'integer';
    case 'float':
    case 'double':
      return 'number';
    case 'array':
      return `array of ${t.itemsType ? describeType(t.itemsType) : 'items'}`;
    case 'record':
      return 'object';
    default:
      return type.typeName;
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  const text = JSON.stringify(value);
  if (text === undefined) return typeof value;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function pathText(path: string[]): string {
  return path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Checks Avro can't express: ranges, formats, required-one-of. */
function semanticErrors(name: RecordName, v: Record<string, unknown>, bounds: EventTimeBounds): FieldError[] {
  const errors: FieldError[] = [];
  const need = (ok: boolean, field: string, expected: string) => {
    if (!ok) errors.push({ field, expected, received: describeValue(field.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], v)) });
  };
  if ('eventId' in v)
    need(typeof v.eventId === 'string' && v.eventId.length > 0 && v.eventId.length <= 128, 'eventId', 'non-empty string of at most 128 characters');
  need(typeof v.customerId === 'string' && v.customerId.length > 0 && v.customerId.length <= 128, 'customerId', 'non-empty string of at most 128 characters');
  if ('eventTime' in v) {
    const skew = bounds.maxSkewMs ?? DEFAULT_EVENT_TIME_SKEW_MS;
    const latest = (bounds.now ?? Date.now()) + skew;
    need(
      typeof v.eventTime === 'number' && Number.isInteger(v.eventTime) && v.eventTime >= 0 && v.eventTime <= latest,
      'eventTime',
      `epoch milliseconds from 1970-01-01 to at most ${skewText(skew)} after now (${new Date(latest).toISOString()})`,
    );
  }
  switch (name) {
    case 'nextact.ChatEvent':
      need(typeof v.sentiment === 'number' && v.sentiment >= -1 && v.sentiment <= 1, 'sentiment', 'number in [-1, 1]');
      break;
    case 'nextact.PurchaseEvent': {
      need(typeof v.currency === 'string' && /^[A-Z]{3}$/.test(v.currency), 'currency', 'ISO 4217 code such as EUR');
      need(typeof v.amountMinor === 'number' && v.amountMinor >= 0, 'amountMinor', 'integer >= 0');
      const items = Array.isArray(v.lineItems) ? (v.lineItems as Record<string, unknown>[]) : [];
      need(items.length > 0, 'lineItems', 'at least one line item');
      items.forEach((item, i) => {
        if (!(typeof item.quantity === 'number' && item.quantity >= 1))
          errors.push({ field: `lineItems[${i}].quantity`, expected: 'integer >= 1', received: describeValue(item.quantity) });
        if (!(typeof item.unitPriceMinor === 'number' && item.unitPriceMinor >= 0))
          errors.push({ field: `lineItems[${i}].unitPriceMinor`, expected: 'integer >= 0', received: describeValue(item.unitPriceMinor) });
      });
      break;
    }
    case 'nextact.SurveyResponse':
      if (v.nps !== null) need(typeof v.nps === 'number' && v.nps >= 0 && v.nps <= 10, 'nps', 'integer 0-10 or null');
      if (v.csat !== null) need(typeof v.csat === 'number' && v.csat >= 1 && v.csat <= 5, 'csat', 'integer 1-5 or null');
      if (v.nps === null && v.csat === null) errors.push({ field: 'nps', expected: 'nps and/or csat', received: 'neither' });
      break;
    case 'nextact.ActionOutcome':
      if (v.valueMinor !== null) need(typeof v.valueMinor === 'number' && v.valueMinor >= 0, 'valueMinor', 'integer >= 0 or null');
      break;
    default:
      break;
  }
  return errors;
}

/**
 * Validates a plain object against a record's schema and its semantic rules, and returns it
 * with Avro defaults filled in. Unknown fields are refused rather than silently dropped.
 */
export function validateRecord<N extends RecordName>(name: N, input: unknown, bounds: EventTimeBounds = {}): RecordTypes[N] {
  const type = avroType(name);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError(`${name} must be a JSON object`, [{ field: '(root)', expected: 'object', received: describeValue(input) }]);
  }
  const errors: FieldError[] = [];
  type.isValid(input, {
    noUndeclaredFields: true,
    errorHook: (path: string[], value: unknown, t: Type) => {
      if (t.typeName === 'record' && typeof value === 'object' && value !== null) {
        const declaredFields = new Set((t as Type & { fields: { name: string }[] }).fields.map((f) => f.name));
        for (const key of Object.keys(value)) {
          if (!declaredFields.has(key))
            errors.push({
              field: pathText([...path, key]),
              expected: 'no such field (not in the schema)',
              received: describeValue((value as Record<string, unknown>)[key]),
            });
        }
        return;
      }
      errors.push({ field: pathText(path), expected: describeType(t), received: describeValue(value) });
    },
  });
  if (errors.length > 0) throw new ValidationError(`invalid ${name}: ${errors.map((e) => e.field).join(', ')}`, errors);
  const value = type.clone(input) as Record<string, unknown>;
  const semantic = semanticErrors(name, value, bounds);
  if (semantic.length > 0) throw new ValidationError(`invalid ${name}: ${semantic.map((e) => e.field).join(', ')}`, semantic);
  return value as unknown as RecordTypes[N];
}
