/** Values across the store's boundary: ClickHouse numbers as JS numbers, and checked query parameters. */

/** A ClickHouse number (64-bit integers arrive as strings); 0 for null. */
export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** A window, horizon or count parameter: an integer in 1..max, else a RangeError (a 400 at the routes). */
export function positiveInt(value: number, name: string, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw new RangeError(`${name} must be an integer 1..${max}, got ${value}`);
  return value;
}
