/** A machine's state value as one line: `{ iterating: 'waiting' }` -> `iterating.waiting`. */
export function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  // Parallel regions, if a machine ever has them, are joined with `|`.
  return Object.entries(value)
    .map(([k, v]) => `${k}.${statePath(v)}`)
    .join('|');
}
