import { avroType, customerEventNames, schemas, ValidationError, validateRecord } from '../../src';

const browse = {
  eventId: 'e-1',
  customerId: 'c-1',
  eventTime: Date.UTC(2026, 0, 1),
  source: 'web',
  kind: 'PRODUCT_VIEW',
  productId: 'p-9',
};

function fieldErrors(name: Parameters<typeof validateRecord>[0], input: unknown) {
  try {
    validateRecord(name, input);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).fieldErrors;
  }
  throw new Error('expected a validation error');
}

describe('validateRecord', () => {
  it('fills Avro defaults for omitted optional fields', () => {
    const value = validateRecord('nextact.BrowseEvent', browse);
    expect(value.schemaVersion).toBe(1);
    expect(value.url).toBeNull();
    expect(value.productId).toBe('p-9');
  });

  it('names a missing field', () => {
    const { customerId: _, ...rest } = browse;
    expect(fieldErrors('nextact.BrowseEvent', rest)).toContainEqual({ field: 'customerId', expected: 'string', received: 'nothing (missing)' });
  });

  it('names a wrong type with what came', () => {
    expect(fieldErrors('nextact.BrowseEvent', { ...browse, eventTime: 'yesterday' })).toContainEqual({
      field: 'eventTime',
      expected: 'integer',
      received: '"yesterday"',
    });
  });

  it('lists the symbols of an enum', () => {
    const [error] = fieldErrors('nextact.BrowseEvent', { ...browse, kind: 'LOOK' });
    expect(error).toEqual({ field: 'kind', expected: expect.stringContaining('one of PAGE_VIEW, PRODUCT_VIEW'), received: '"LOOK"' });
  });

  // Found by the ingest fuzzer: avsc looks symbols up in a plain object, so inherited names passed
  // (and were altered on clone), and an object with a non-callable toString threw a TypeError (a 500).
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('refuses the inherited name %s as an enum symbol', (symbol) => {
    expect(fieldErrors('nextact.BrowseEvent', { ...browse, kind: symbol })).toEqual([
      { field: 'kind', expected: expect.stringContaining('one of PAGE_VIEW'), received: JSON.stringify(symbol) },
    ]);
  });

  it('refuses an object whose toString is not a function in an enum field with a field error', () => {
    const [error] = fieldErrors('nextact.BrowseEvent', { ...browse, kind: { toString: '8s', R: 1 } });
    expect(error?.field).toBe('kind');
  });

  it('refuses fields the schema does not have instead of dropping them', () => {
    expect(fieldErrors('nextact.BrowseEvent', { ...browse, colour: 'red' })).toContainEqual({
      field: 'colour',
      expected: 'no such field (not in the schema)',
      received: '"red"',
    });
  });

  it('points into nested arrays', () => {
    const purchase = {
      eventId: 'e-2',
      customerId: 'c-1',
      eventTime: Date.UTC(2026, 0, 1),
      source: 'shop',
      orderId: 'o-1',
      lineItems: [{ sku: 's', quantity: 'two', unitPriceMinor: 100 }],
      amountMinor: 200,
      currency: 'EUR',
      channel: 'WEB',
    };
    expect(fieldErrors('nextact.PurchaseEvent', purchase)).toContainEqual({ field: 'lineItems[0].quantity', expected: 'integer (32-bit)', received: '"two"' });
  });

  it('applies semantic ranges Avro cannot express', () => {
    const survey = { eventId: 'e-3', customerId: 'c-1', eventTime: Date.UTC(2026, 0, 1), source: 'survey', surveyId: 's-1', nps: 11 };
    expect(fieldErrors('nextact.SurveyResponse', survey)).toEqual([{ field: 'nps', expected: 'integer 0-10 or null', received: '11' }]);
    const neither = { ...survey, nps: null };
    expect(fieldErrors('nextact.SurveyResponse', neither)[0]?.field).toBe('nps');
  });

  it('refuses a non-object', () => {
    expect(fieldErrors('nextact.BrowseEvent', [1, 2])[0]).toEqual({ field: '(root)', expected: 'object', received: '[1,2]' });
  });

  it('has a self-contained schema for every customer event', () => {
    for (const name of customerEventNames) {
      expect(schemas[name]).toBeDefined();
      expect(avroType(name).name).toBe(name);
    }
  });

  it('round-trips a validated value through Avro unchanged', () => {
    const value = validateRecord('nextact.BrowseEvent', browse);
    const type = avroType('nextact.BrowseEvent');
    expect(type.fromBuffer(type.toBuffer(value))).toEqual(value);
  });
});
