/** Small helpers shared by the benchmarks: percentiles, repeated runs, a plain table, a clock. */

/**
 * Milliseconds on the host's monotonic clock (CLOCK_MONOTONIC, through `process.hrtime`), which
 * every process on the host reads alike, so a time taken in one process can be subtracted from
 * one taken in another. `performance.timeOrigin + performance.now()` cannot: each process pins its
 * origin to the wall clock when it starts, and while the wall clock is being corrected it is
 * slewed (one morning here: 5 ms a second ahead of the monotonic clock), so two processes started
 * a second apart disagreed by 5 ms, more than the latencies measured.
 */
export const hostClockMs = (): number => Number(process.hrtime.bigint()) / 1e6;
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** Runs `fn` `runs` times (after one warm-up run) and returns each run's result. */
export async function repeat<T>(runs: number, fn: () => Promise<T>): Promise<T[]> {
  await fn();
  const out: T[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn());
  return out;
}

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run the benchmark with node --expose-gc (npm run bench:router does)');
  g();
  g();
}

export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of cells.slice(1)) console.log(line(r));
}

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
