// Event-loop delay of the process under test over a measured window, read from the prom-client gauges on its /metrics.
import type { HttpClient } from './http.js'

/** Event-loop delay percentiles in ms beyond the sampling timer's own interval: 0 is a loop that never stalled. */
export interface LoopDelay {
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

/**
 * monitorEventLoopDelay records the whole interval between two runs of its timer, so an idle loop reads about 10 ms
 * (prom-client's default resolution, which the service keeps and the relay copies); what is beyond it is the stall.
 */
const RESOLUTION_MS = 10

const GAUGES: Record<string, keyof LoopDelay> = {
  nodejs_eventloop_lag_mean_seconds: 'mean',
  nodejs_eventloop_lag_p50_seconds: 'p50',
  nodejs_eventloop_lag_p90_seconds: 'p90',
  nodejs_eventloop_lag_p99_seconds: 'p99',
  nodejs_eventloop_lag_max_seconds: 'max'
}

/**
 * prom-client resets its delay histogram at every scrape, so a scrape when a window opens and another when it closes
 * give the delay over exactly that window. Lets a reader tell a tail that comes from the server's event loop stalling
 * (GC, a long synchronous task) from one that comes from elsewhere. Null when there is no /metrics to read (an
 * older relay build, a METRICS_TOKEN the bench was not given).
 */
export async function scrapeLoopDelay (http: HttpClient, metricsToken: string | null = null): Promise<LoopDelay | null> {
  try {
    const res = await http.json<unknown>('GET', '/metrics', metricsToken ?? undefined)
    if (res.status !== 200 || typeof res.body !== 'string') return null
    return parseLoopDelay(res.body)
  } catch { return null }
}

export function parseLoopDelay (text: string): LoopDelay | null {
  const out: Partial<LoopDelay> = {}
  for (const line of text.split('\n')) {
    if (!line.startsWith('nodejs_eventloop_lag_')) continue
    const space = line.lastIndexOf(' ')
    // the name may carry labels ({...}) when the service sets default labels
    const name = line.slice(0, space).replace(/\{.*\}$/, '')
    const key = GAUGES[name]
    if (key !== undefined) out[key] = Math.max(0, Math.round((Number(line.slice(space + 1)) * 1000 - RESOLUTION_MS) * 100) / 100)
  }
  return Object.values(GAUGES).every(k => Number.isFinite(out[k])) ? out as LoopDelay : null
}
