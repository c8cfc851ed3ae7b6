import { parseEvents } from '../src/events';
import { sampleEvents } from './fixtures';

describe('gateway event-time bounds', () => {
  it('accepts backfilled history and refuses the far future with a field-level error', () => {
    const old = parseEvents(sampleEvents('c-1', Date.UTC(1995, 0, 1)).browse, 10);
    expect(old.ok).toBe(true);
    const now = Date.now();
    const future = parseEvents(sampleEvents('c-1', now + 3 * 86_400_000).browse, 10, undefined, { maxSkewMs: 86_400_000 });
    expect(future.ok).toBe(false);
    if (future.ok) return;
    expect(future.problem.kind).toBe('validation');
    expect(JSON.stringify(future.problem)).toMatch(/eventTime/);
    const allowed = parseEvents(sampleEvents('c-1', now + 3 * 86_400_000).browse, 10, undefined, { maxSkewMs: 7 * 86_400_000 });
    expect(allowed.ok).toBe(true);
  });
});
