// Scenario `startup`: spawn the built service on embedded PGlite and time process start to the first 200 on /health
// (listening) and on /ready (the embedded database open and migrated: every route served).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, repoRoot, serviceEnv } from '../lib/target.js'
import { round } from '../lib/stats.js'
import { defaultResultsDir, describeMachine, table, writeResults } from '../lib/results.js'
import { noLog, type CommonOptions } from '../lib/common.js'
import { readCpuTicks, ticksPerSecond } from '../lib/proc-sampler.js'

export interface StartupOptions extends CommonOptions {
  runs?: number
}

/** The first 200 from `url`, polling every 5 ms; throws once the process has exited or after 60 s. */
async function firstOk (url: string, child: { exitCode: number | null }, t0: number): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode} before ${url} answered 200`)
    if (performance.now() - t0 > 60_000) throw new Error(`no 200 from ${url} within 60 s`)
    try {
      const res = await fetch(url)
      await res.arrayBuffer()
      if (res.status === 200) return
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * ms from spawn to the first 200 on /health and on /ready, and the CPU ms the spawned process had used at /health
 * (utime+stime from /proc: on a shared machine the CPU figure moves far less than the wall time). The process group
 * is stopped (SIGTERM) and awaited afterwards.
 */
async function timeToHealth (argv: string[], dataDir: string): Promise<{ ms: number, cpuMs: number | null, readyMs: number }> {
  const port = await freePort()
  const t0 = performance.now()
  const [command, ...args] = argv as [string, ...string[]]
  // detached: `npm start` runs node under npm, and the whole group is stopped, not only npm
  const child = spawn(command, args, {
    cwd: repoRoot,
    detached: true,
    env: { ...process.env, ...serviceEnv(port, 'startup-bench-secret-of-at-least-32-characters', { dataDir }), DATABASE_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve() }))
  try {
    await firstOk(`http://127.0.0.1:${port}/health`, child, t0)
    const ms = performance.now() - t0
    const ticks = child.pid === undefined ? null : readCpuTicks(child.pid)
    const cpuMs = ticks === null ? null : ticks * 1000 / ticksPerSecond()
    await firstOk(`http://127.0.0.1:${port}/ready`, child, t0)
    return { ms, cpuMs, readyMs: performance.now() - t0 }
  } finally {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM')
    await exited
  }
}

export async function startup (opts: StartupOptions = {}): Promise<{ table: string, path: string }> {
  const log = opts.log ?? noLog
  const runs = opts.runs ?? 5
  // what `npm start` and the image run: the bundle made by scripts/build-server.ts
  const entry = opts.serviceEntry ?? join(repoRoot, 'dist', 'server', 'server.js')
  const fresh: number[] = []
  const existing: number[] = []
  const npmStart: number[] = []
  const freshCpu: number[] = []
  const existingCpu: number[] = []
  const freshReady: number[] = []
  const existingReady: number[] = []
  const npmStartReady: number[] = []
  const work = mkdtempSync(join(tmpdir(), 'chat-startup-'))
  try {
    for (let i = 0; i < runs; i++) {
      const dir = join(work, `run-${i}`)
      const a = await timeToHealth([process.execPath, entry], dir)
      const b = await timeToHealth([process.execPath, entry], dir)
      fresh.push(round(a.ms, 0)); freshCpu.push(round(a.cpuMs ?? NaN, 0)); freshReady.push(round(a.readyMs, 0))
      existing.push(round(b.ms, 0)); existingCpu.push(round(b.cpuMs ?? NaN, 0)); existingReady.push(round(b.readyMs, 0))
      // what a reader types: prestart (the incremental build) and then the service, on an unchanged checkout
      if (opts.serviceEntry === undefined) {
        const c = await timeToHealth(['npm', 'start', '--silent'], dir)
        npmStart.push(round(c.ms, 0)); npmStartReady.push(round(c.readyMs, 0))
      }
      log(`run ${i + 1}: fresh DATA_DIR ${fresh.at(-1)} ms, existing ${existing.at(-1)} ms${npmStart.length > 0 ? `, npm start ${npmStart.at(-1)} ms` : ''}`)
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  const median = (v: number[]): number | undefined => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]
  const row = (name: string, v: number[], cpu: number[] | null, ready: number[]) =>
    [name, runs, Math.min(...v), median(v), Math.max(...v), cpu === null ? null : median(cpu), median(ready), Math.max(...ready), v.join(' ')]
  const rows = [row('fresh', fresh, freshCpu, freshReady), row('existing', existing, existingCpu, existingReady),
    ...(npmStart.length > 0 ? [row('existing, via npm start', npmStart, null, npmStartReady)] : [])]
  const text = table(['DATA_DIR', 'runs', 'min ms', 'median ms', 'max ms', 'median CPU ms', '/ready median ms', '/ready max ms', 'all (/health)'], rows)
  const result = {
    scenario: 'startup', startedAt: new Date().toISOString(), machine: await describeMachine(), entry,
    fresh, existing, freshCpu, existingCpu, npmStart, freshReady, existingReady, npmStartReady, table: text
  }
  return { table: text, path: writeResults(opts.resultsDir ?? defaultResultsDir(), 'startup', result) }
}
