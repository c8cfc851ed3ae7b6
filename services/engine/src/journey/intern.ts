/**
 * One string instance per distinct value for the journey's enum-like fields (stages, action ids,
 * channels, intents, categories, time zones): decoded records and events otherwise carry a fresh
 * copy in every journey. Bounded, so unexpected high-cardinality input cannot grow it without limit;
 * beyond the bound a string is simply kept as it is.
 */
const MAX_INTERNED = 65_536;
const strings = new Map<string, string>();

export function intern<T extends string>(value: T): T {
  const known = strings.get(value);
  if (known !== undefined) return known as T;
  if (strings.size < MAX_INTERNED) strings.set(value, value);
  return value;
}

export function internOrNull<T extends string>(value: T | null): T | null {
  return value === null ? null : intern(value);
}
