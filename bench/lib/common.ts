// Options every scenario shares (which targets, where results go, how to log) and the target loop around them.
import { startTarget, type Target, type TargetKind } from './target.js'

export interface CommonOptions {
  /** targets to run, baseline first; default relay + pglite (+ postgres when databaseUrl is set) */
  targets?: TargetKind[]
  databaseUrl?: string
  /** drive a running service instead of starting one (replaces the service targets) */
  against?: string
  secret?: string
  resultsDir?: string
  cpuProfDir?: string
  /** extra env for service children (e.g. comparing a fix behind a flag) */
  serviceEnv?: Record<string, string>
  log?: (line: string) => void
  /** smoke test only: run targets inside this process (see TargetOptions.inProcess) */
  inProcess?: boolean
}

export function resolveTargets (o: CommonOptions): TargetKind[] {
  if (o.targets && o.targets.length > 0) return o.targets
  if (o.against) return ['relay', 'external']
  return o.databaseUrl ? ['relay', 'pglite', 'postgres'] : ['relay', 'pglite']
}

export async function withTarget<T> (kind: TargetKind, o: CommonOptions, fn: (t: Target) => Promise<T>): Promise<T> {
  const target = await startTarget({
    kind,
    databaseUrl: o.databaseUrl,
    url: o.against,
    secret: o.secret,
    useDatabaseAsIs: kind === 'external',
    cpuProfDir: kind === 'relay' ? undefined : o.cpuProfDir,
    env: kind === 'relay' ? undefined : o.serviceEnv,
    inProcess: o.inProcess
  })
  try { return await fn(target) } finally { await target.dispose() }
}

export const noLog = (): void => {}
