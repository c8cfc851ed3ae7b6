import { randomUUID } from 'node:crypto';
import {
  type CustomerEventKind,
  type CustomerEventName,
  customerEventTypes,
  type EventTimeBounds,
  errorMessage,
  type FieldError,
  type RecordTypes,
  ValidationError,
  validateRecord,
} from '@nextact/core';

/** One event of a request, validated against its Avro record (defaults filled in). */
export interface IngestEvent<N extends CustomerEventName = CustomerEventName> {
  kind: CustomerEventKind;
  name: N;
  value: RecordTypes[N];
}

/** A field-level problem of one event in a request. */
export interface EventFieldError extends FieldError {
  /** Position of the event in the request (0 for a single event). */
  index: number;
}

/** Why a request body was refused, mapped to an HTTP answer by the gateway. */
export type BodyProblem =
  | { kind: 'bad_json'; message: string; position?: number }
  | { kind: 'too_many'; message: string; count: number }
  | { kind: 'validation'; message: string; count: number; errors: EventFieldError[] };

export type ParseResult = { ok: true; events: IngestEvent[] } | { ok: false; problem: BodyProblem };

/** What senders may post: every customer event except erasures, which have their own authenticated endpoint. */
export type IngestKind = Exclude<CustomerEventKind, 'erasure'>;
const kinds = (Object.keys(customerEventTypes) as CustomerEventKind[]).filter((k): k is IngestKind => k !== 'erasure');
const allowedTypes = `one of ${kinds.join(', ')}`;

function show(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    // Deeper than JSON.stringify's stack allows.
    return Array.isArray(value) ? 'a deeply nested array' : 'a deeply nested value';
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Deepest nesting of arrays and objects inside one event; no record needs more than a few levels. */
export const MAX_EVENT_DEPTH = 16;

// With the u flag, paired surrogates are one code point: only lone ones match.
const LONE_SURROGATE = /\p{Cs}/u;
const wellFormed = (text: string): boolean => !LONE_SURROGATE.test(text);
const replaced = (text: string): string => text.replace(/\p{Cs}/gu, '\ufffd');

/**
 * What Avro and UTF-8 cannot carry faithfully, found by the fuzz test: a lone surrogate (valid in
 * JSON's \u escapes, but encoded to U+FFFD, so the event on Kafka would differ from the one
 * accepted), and nesting deep enough to exhaust the validator's stack.
 */
function unfaithful(value: unknown, path: string, depth: number): Omit<EventFieldError, 'index'> | undefined {
  if (typeof value === 'string') {
    return wellFormed(value) ? undefined : { field: path, expected: 'well-formed Unicode (no lone surrogate)', received: show(replaced(value)) };
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_EVENT_DEPTH) return { field: path, expected: `at most ${MAX_EVENT_DEPTH} levels of nesting`, received: 'a value nested deeper' };
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [`${path}[${i}]`, v])
    : Object.entries(value).map(([k, v]) => [path ? `${path}.${k}` : k, v]);
  for (const [at, v] of entries) {
    if (!Array.isArray(value) && !wellFormed(at)) {
      return { field: replaced(at), expected: 'field names in well-formed Unicode', received: show(replaced(at)) };
    }
    const problem = unfaithful(v, at, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

/** Strict: a byte sequence that is not UTF-8 is refused rather than silently replaced by U+FFFD. */
// A leading BOM is dropped (RFC 8259 lets parsers ignore it); it is not part of the JSON text.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function isKind(value: unknown): value is IngestKind {
  return typeof value === 'string' && (kinds as string[]).includes(value);
}

/** Parses JSON, reporting the parser's position for the sender. */
export function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false; problem: BodyProblem } {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return { ok: false, problem: { kind: 'bad_json', message: 'body is not valid UTF-8; JSON must be sent as UTF-8 (RFC 8259)' } };
  }
  if (text.trim() === '') return { ok: false, problem: { kind: 'bad_json', message: 'request body is empty; expected JSON' } };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const message = errorMessage(err);
    const at = /position (\d+)/.exec(message);
    return { ok: false, problem: { kind: 'bad_json', message: `body is not valid JSON: ${message}`, position: at ? Number(at[1]) : undefined } };
  }
}

/** The request's events: a single event object, a JSON array of events, or `{ "events": [...] }`. */
function eventList(body: unknown): { ok: true; list: unknown[] } | { ok: false; error: EventFieldError } {
  if (Array.isArray(body)) return { ok: true, list: body };
  if (typeof body === 'object' && body !== null && !('type' in body) && 'events' in body) {
    const events = (body as { events: unknown }).events;
    if (!Array.isArray(events)) return { ok: false, error: { index: 0, field: 'events', expected: 'array of events', received: show(events) } };
    return { ok: true, list: events };
  }
  return { ok: true, list: [body] };
}

/**
 * Validates every event of a request against its Avro record. All or nothing: one bad event
 * refuses the request, and the answer names every bad field of every bad event.
 */
export function parseEvents(body: unknown, maxEvents: number, newEventId: () => string = randomUUID, bounds: EventTimeBounds = {}): ParseResult {
  const listed = eventList(body);
  if (!listed.ok) return { ok: false, problem: { kind: 'validation', message: 'events must be an array', count: 1, errors: [listed.error] } };
  const { list } = listed;
  if (list.length === 0) {
    return {
      ok: false,
      problem: {
        kind: 'validation',
        message: 'no events in the request',
        count: 0,
        errors: [{ index: 0, field: 'events', expected: 'at least one event', received: '[]' }],
      },
    };
  }
  if (list.length > maxEvents) {
    return {
      ok: false,
      problem: { kind: 'too_many', message: `${list.length} events exceed the limit of ${maxEvents} events per request; split the batch`, count: list.length },
    };
  }
  const events: IngestEvent[] = [];
  const errors: EventFieldError[] = [];
  list.forEach((raw, index) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      errors.push({ index, field: '(root)', expected: 'event object with a "type" field', received: show(raw) });
      return;
    }
    const problem = unfaithful(raw, '', 0);
    if (problem) {
      errors.push({ index, ...problem, field: problem.field || '(root)' });
      return;
    }
    const { type, ...fields } = raw as Record<string, unknown>;
    if (!isKind(type)) {
      errors.push({ index, field: 'type', expected: allowedTypes, received: show(type) });
      return;
    }
    // eventId is the downstream idempotency key; senders that retry should set their own.
    if (fields.eventId === undefined) fields.eventId = newEventId();
    const name = customerEventTypes[type];
    try {
      events.push({ kind: type, name, value: validateRecord(name, fields, bounds) });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      for (const e of err.fieldErrors) errors.push({ index, ...e });
    }
  });
  if (errors.length > 0) {
    const bad = new Set(errors.map((e) => e.index)).size;
    const first = errors[0]!;
    const message = `${bad} of ${list.length} event(s) invalid; nothing was accepted. First: event ${first.index} field ${first.field}: expected ${first.expected}, received ${first.received}`;
    return { ok: false, problem: { kind: 'validation', message, count: list.length, errors } };
  }
  return { ok: true, events };
}
