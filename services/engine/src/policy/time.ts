/**
 * Local wall-clock time in a customer's time zone, from event time (never the machine clock),
 * so quiet hours replay identically anywhere.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Minutes since local midnight (0-1439) at `epochMs` in `timeZone`. */
export function localMinuteOfDay(epochMs: number, timeZone: string): number {
  let hour = 0;
  let minute = 0;
  for (const part of formatter(timeZone).formatToParts(epochMs)) {
    if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return hour * 60 + minute;
}

export function clockMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/** Whether local time falls in [start, end); the window may wrap midnight (21:00-08:00). Equal bounds mean no quiet hours. */
export function inQuietHours(epochMs: number, timeZone: string, start: string, end: string): boolean {
  const m = localMinuteOfDay(epochMs, timeZone);
  const s = clockMinutes(start);
  const e = clockMinutes(end);
  if (s === e) return false;
  return s < e ? m >= s && m < e : m >= s || m < e;
}
