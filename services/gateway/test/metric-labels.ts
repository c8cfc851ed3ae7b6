/** Every label value in a Prometheus text exposition. */
export function labelValuesOf(exposition: string): Set<string> {
  const values = new Set<string>();
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#')) continue;
    const labels = /\{(.*)\}/.exec(line)?.[1];
    if (!labels) continue;
    for (const m of labels.matchAll(/[a-zA-Z_][a-zA-Z0-9_]*="((?:[^"\\]|\\.)*)"/g)) values.add(JSON.parse(`"${m[1]}"`));
  }
  return values;
}
