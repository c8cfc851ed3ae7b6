import { ValidationError, validateRecord } from '../../src';

const browse = (eventTime: number) => ({ eventId: 'e-1', customerId: 'c-1', eventTime, source: 'web', kind: 'PAGE_VIEW' });
const NOW = Date.UTC(2026, 11, 1, 12);
const DAY = 86_400_000;

function eventTimeError(eventTime: number, bounds = {}) {
  try {
    validateRecord('nextact.BrowseEvent', browse(eventTime), { now: NOW, ...bounds });
    return null;
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return err.fieldErrors.find((e) => e.field === 'eventTime') ?? null;
  }
}

describe('event-time bounds', () => {
  it('accepts history back to 1970 and up to now + 1 day by default', () => {
    expect(eventTimeError(0)).toBeNull();
    expect(eventTimeError(Date.UTC(1985, 5, 1))).toBeNull();
    expect(eventTimeError(NOW + DAY)).toBeNull();
  });

  it('refuses before 1970 and past the skew, naming the bound', () => {
    expect(eventTimeError(-1)?.expected).toMatch(/from 1970-01-01 to at most 1 day\(s\) after now \(2026-12-02T12:00:00.000Z\)/);
    expect(eventTimeError(NOW + DAY + 1)).not.toBeNull();
  });

  it('takes the skew from the caller', () => {
    expect(eventTimeError(NOW + 2 * 3_600_000, { maxSkewMs: 3_600_000 })?.expected).toMatch(/1 hour\(s\)/);
    expect(eventTimeError(NOW + 10 * DAY, { maxSkewMs: 30 * DAY })).toBeNull();
  });
});
