import { parseEvents, parseJson } from '../src/events';
import { sampleEvents } from './fixtures';

const ev = sampleEvents('cust-1');
let seq = 0;
const ids = () => `generated-${++seq}`;

function problem(body: unknown, max = 100) {
  const r = parseEvents(body, max, ids);
  if (r.ok) throw new Error('expected a refusal');
  return r.problem;
}

function fieldErrors(body: unknown) {
  const p = problem(body);
  if (p.kind !== 'validation') throw new Error(`expected validation, got ${p.kind}`);
  return p.errors;
}

describe('parseEvents: body forms', () => {
  it('accepts every event type and fills Avro defaults', () => {
    const r = parseEvents(Object.values(ev), 100, ids);
    if (!r.ok) throw new Error(JSON.stringify(r.problem));
    expect(r.events.map((e) => e.name)).toEqual([
      'nextact.BrowseEvent',
      'nextact.ChatEvent',
      'nextact.PurchaseEvent',
      'nextact.SurveyResponse',
      'nextact.ActionOutcome',
      'nextact.ConsentChange',
    ]);
    const browse = r.events[0]!.value as unknown as Record<string, unknown>;
    expect(browse).toMatchObject({ customerId: 'cust-1', schemaVersion: 1, sessionId: null, query: null, productId: 'sku-1' });
    expect(browse).not.toHaveProperty('type');
  });

  it('takes a single object, an array, or an {events} envelope alike', () => {
    for (const body of [ev.browse, [ev.browse], { events: [ev.browse] }]) {
      const r = parseEvents(body, 100, ids);
      expect(r.ok && r.events.length).toBe(1);
    }
  });

  it('keeps a sender eventId and generates one when absent', () => {
    const r = parseEvents([{ ...ev.chat, eventId: 'mine-1' }, ev.chat], 100, () => 'gen-x');
    if (!r.ok) throw new Error('refused');
    expect(r.events.map((e) => e.value.eventId)).toEqual(['mine-1', 'gen-x']);
  });

  it('refuses an empty batch, a non-array envelope and too many events', () => {
    expect(fieldErrors([])).toEqual([{ index: 0, field: 'events', expected: 'at least one event', received: '[]' }]);
    expect(fieldErrors({ events: 'nope' })[0]).toMatchObject({ field: 'events', expected: 'array of events' });
    const tooMany = problem([ev.browse, ev.browse, ev.browse], 2);
    expect(tooMany).toMatchObject({ kind: 'too_many', count: 3 });
    expect(tooMany.message).toContain('limit of 2');
  });
});

describe('parseEvents: field-level errors', () => {
  it('names a missing field', () => {
    const { customerId: _c, ...noCustomer } = ev.browse;
    expect(fieldErrors(noCustomer)).toEqual([{ index: 0, field: 'customerId', expected: 'string', received: 'nothing (missing)' }]);
  });

  it('names a wrong type', () => {
    expect(fieldErrors({ ...ev.browse, eventTime: 'yesterday' })).toEqual([{ index: 0, field: 'eventTime', expected: 'integer', received: '"yesterday"' }]);
  });

  it('names an unknown enum symbol and lists the allowed ones', () => {
    const [e] = fieldErrors({ ...ev.chat, intent: 'SMALL_TALK' });
    expect(e).toMatchObject({ index: 0, field: 'intent', received: '"SMALL_TALK"' });
    expect(e!.expected).toContain('ORDER_STATUS');
  });

  it('refuses an unknown field rather than dropping it', () => {
    expect(fieldErrors({ ...ev.consent, colour: 'red' })).toEqual([
      { index: 0, field: 'colour', expected: 'no such field (not in the schema)', received: '"red"' },
    ]);
  });

  it('checks semantic ranges such as nps 0-10', () => {
    expect(fieldErrors({ ...ev.survey, nps: 11 })).toEqual([{ index: 0, field: 'nps', expected: 'integer 0-10 or null', received: '11' }]);
  });

  it('names nested fields of line items', () => {
    const bad = { ...ev.purchase, lineItems: [{ sku: 'a', category: null, quantity: 0, unitPriceMinor: 1 }] };
    expect(fieldErrors(bad)).toEqual([{ index: 0, field: 'lineItems[0].quantity', expected: 'integer >= 1', received: '0' }]);
  });

  it('refuses a missing or unknown type naming the allowed types', () => {
    const { type: _t, ...untyped } = ev.browse;
    const errors = fieldErrors([ev.browse, untyped, { ...ev.browse, type: 'click' }, 42]);
    expect(errors).toEqual([
      { index: 1, field: 'type', expected: 'one of browse, chat, purchase, survey, outcome, consent', received: 'nothing (missing)' },
      { index: 2, field: 'type', expected: 'one of browse, chat, purchase, survey, outcome, consent', received: '"click"' },
      { index: 3, field: '(root)', expected: 'event object with a "type" field', received: '42' },
    ]);
  });

  it('is all or nothing and reports every bad event by index', () => {
    const p = problem([ev.browse, { ...ev.browse, kind: 'TELEPORT' }, ev.chat, { ...ev.survey, nps: -1 }]);
    expect(p.kind).toBe('validation');
    if (p.kind !== 'validation') return;
    expect(p.errors.map((e) => [e.index, e.field])).toEqual([
      [1, 'kind'],
      [3, 'nps'],
    ]);
    expect(p.message).toContain('2 of 4');
  });
});

describe('parseJson', () => {
  it('parses JSON and reports the parser position of a syntax error', () => {
    expect(parseJson(Buffer.from('[1, 2]'))).toEqual({ ok: true, value: [1, 2] });
    const bad = parseJson(Buffer.from('{"a": 1,,}'));
    expect(bad.ok).toBe(false);
    if (bad.ok || bad.problem.kind !== 'bad_json') throw new Error('expected bad_json');
    expect(bad.problem.position).toBe(8);
    expect(bad.problem.message).toContain('position 8');
  });

  it('refuses an empty body', () => {
    const r = parseJson(Buffer.from('  '));
    expect(!r.ok && r.problem.kind).toBe('bad_json');
  });
});

describe('parseEvents: what the fuzz test found', () => {
  it('refuses a lone surrogate (UTF-8 cannot carry it; Kafka would get U+FFFD instead)', () => {
    const errors = fieldErrors(parseJsonValue('{"type":"browse","customerId":"c\\ud800","eventTime":1767225600000,"source":"web","kind":"PAGE_VIEW"}'));
    expect(errors).toEqual([{ index: 0, field: 'customerId', expected: 'well-formed Unicode (no lone surrogate)', received: '"c\ufffd"' }]);
    // A surrogate pair is one character and passes.
    expect(parseEvents({ ...ev.browse, source: 'web 😀' }, 10, ids).ok).toBe(true);
  });

  it('refuses nesting deeper than any record needs, without exhausting the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 50_000; i++) deep = [deep];
    expect(fieldErrors({ ...ev.browse, category: deep })[0]).toMatchObject({
      index: 0,
      field: expect.stringMatching(/^category/),
      expected: 'at most 16 levels of nesting',
    });
    expect(fieldErrors([deep])[0]).toMatchObject({ index: 0, field: '(root)' });
  });
});

describe('parseJson: encodings', () => {
  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    const body = Buffer.concat([Buffer.from('{"source":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const r = parseJson(body);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem.message).toMatch(/not valid UTF-8/);
  });

  it('ignores a leading byte order mark', () => {
    const r = parseJson(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[1]')]));
    expect(r).toEqual({ ok: true, value: [1] });
  });
});

function parseJsonValue(text: string): unknown {
  const r = parseJson(Buffer.from(text));
  if (!r.ok) throw new Error(r.problem.message);
  return r.value;
}
