// Latency summaries (percentiles over recorded samples) and small number formatting helpers for bench output.

export interface LatencySummary {
  count: number
  p50: number
  p95: number
  p99: number
  /** the tail a reader of p99 alone misses: one message in a thousand */
  p999: number
  max: number
  mean: number
}

/** Nearest-rank percentiles over the first `n` values of `values` (sorted in place on a copy). */
export function summarize (values: Float64Array | number[], n = values.length): LatencySummary {
  if (n === 0) return { count: 0, p50: NaN, p95: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN }
  const sorted = Float64Array.from(values.slice(0, n) as ArrayLike<number>).sort()
  let sum = 0
  for (let i = 0; i < n; i++) sum += sorted[i] as number
  const at = (p: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] as number
  return { count: n, p50: at(0.5), p95: at(0.95), p99: at(0.99), p999: at(0.999), max: sorted[n - 1] as number, mean: sum / n }
}

/** Every figure of a summary rounded for the results file. */
export function roundSummary (s: LatencySummary, digits = 2): LatencySummary {
  return { count: s.count, p50: round(s.p50, digits), p95: round(s.p95, digits), p99: round(s.p99, digits), p999: round(s.p999, digits), max: round(s.max, digits), mean: round(s.mean, digits) }
}

export function round (x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** a / b rounded, or null when the baseline is missing or zero (rendered as "-"). */
export function ratio (a: number | null | undefined, b: number | null | undefined, digits = 2): number | null {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null
  return round(a / b, digits)
}
