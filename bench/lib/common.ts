// Options every scenario shares (which targets, where results go, how to log) and the target loop around them.
import { startTarget, type Target, type TargetKind } from './target.js'
import { systemBusyPct } from './proc-sampler.js'
import { sleep } from './http.js'

export interface CommonOptions {
  /** targets to run, baseline first; default relay + pglite (+ postgres when databaseUrl is set) */
  targets?: TargetKind[]
  databaseUrl?: string
  /** Redis for the redis target (the scale-out path: fan-out and presence through Redis) */
  redisUrl?: string
  /** drive a running service instead of starting one (replaces the service targets) */
  against?: string
  secret?: string
  /** METRICS_TOKEN of the --against service, to read its event-loop delay */
  metricsToken?: string
  resultsDir?: string
  cpuProfDir?: string
  /** extra env for service children (e.g. comparing a fix behind a flag) */
  serviceEnv?: Record<string, string>
  log?: (line: string) => void
  /** smoke test only: run targets inside this process (see TargetOptions.inProcess) */
  inProcess?: boolean
  /**
   * Before each target, wait (up to 15 minutes) until the rest of the machine uses less than this much CPU
   * (percent of one core), so other jobs on a shared box do not end up in the figures.
   */
  waitIdlePct?: number
  /** see TargetOptions.serviceEntry */
  serviceEntry?: string
  /** see TargetOptions.pgSettings */
  pgSettings?: Record<string, string>
}

export function resolveTargets (o: CommonOptions): TargetKind[] {
  if (o.targets && o.targets.length > 0) return o.targets
  if (o.against) return ['relay', 'external']
  if (!o.databaseUrl) return ['relay', 'pglite']
  return o.redisUrl ? ['relay', 'pglite', 'postgres', 'redis'] : ['relay', 'pglite', 'postgres']
}

/** Waits for a quiet machine (see CommonOptions.waitIdlePct); returns the busy CPU seen last. */
export async function waitForIdle (o: CommonOptions): Promise<number> {
  const log = o.log ?? noLog
  const end = performance.now() + 15 * 60_000
  for (;;) {
    const busy = await systemBusyPct(3000)
    if (o.waitIdlePct === undefined || busy <= o.waitIdlePct) return Math.round(busy)
    if (performance.now() > end) {
      log(`machine still busy (${Math.round(busy)}% CPU) after 15 minutes; running anyway`)
      return Math.round(busy)
    }
    log(`machine busy (${Math.round(busy)}% CPU used by others); waiting for < ${o.waitIdlePct}%`)
    await sleep(20_000)
  }
}

export async function withTarget<T> (kind: TargetKind, o: CommonOptions, fn: (t: Target) => Promise<T>): Promise<T> {
  const busy = await waitForIdle(o)
  ;(o.log ?? noLog)(`[${kind}] starting; machine CPU busy before start: ${busy}% of one core`)
  const target = await startTarget({
    kind,
    databaseUrl: o.databaseUrl,
    redisUrl: o.redisUrl,
    url: o.against,
    secret: o.secret,
    ...(o.metricsToken === undefined ? {} : { metricsToken: o.metricsToken }),
    useDatabaseAsIs: kind === 'external',
    cpuProfDir: o.cpuProfDir,
    env: kind === 'relay' ? undefined : o.serviceEnv,
    inProcess: o.inProcess,
    serviceEntry: o.serviceEntry,
    pgSettings: o.pgSettings
  })
  try { return await fn(target) } finally { await target.dispose() }
}

export const noLog = (): void => {}
