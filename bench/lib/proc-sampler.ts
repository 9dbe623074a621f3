// Samples CPU and RSS of the service process (and of all postgres processes) from /proc while a measurement runs.
import { readFileSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

export interface ProcStats {
  /** average CPU over the sampled window, percent of one core (200 = both cores of a 2-core box) */
  cpuAvgPct: number
  cpuMaxPct: number
  rssAvgMB: number
  rssMaxMB: number
  samples: number
}

export interface SampleReport {
  server: ProcStats | null
  postgres: { cpuAvgPct: number } | null
  client: { cpuAvgPct: number }
  /**
   * CPU used by everything else on the machine (all cores, percent of one core): on a shared box this says
   * how much of the figures is someone else's load.
   */
  otherCpuPct: number
}

/** Busy and total jiffies over all cores from /proc/stat. */
export function readSystemTicks (): { busy: number, total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number)
    const total = v.reduce((a, b) => a + b, 0)
    const idle = (v[3] ?? 0) + (v[4] ?? 0)
    return { busy: total - idle, total }
  } catch { return { busy: 0, total: 0 } }
}

/** Machine-wide busy CPU over `ms`, in percent of one core (2 cores fully busy = 200). */
export async function systemBusyPct (ms: number): Promise<number> {
  const a = readSystemTicks()
  const t0 = performance.now()
  await new Promise(resolve => setTimeout(resolve, ms))
  const b = readSystemTicks()
  return (b.busy - a.busy) / ticksPerSecond() / ((performance.now() - t0) / 1000) * 100
}

let clkTck: number | undefined
export function ticksPerSecond (): number {
  if (clkTck === undefined) {
    try { clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100 } catch { clkTck = 100 }
  }
  return clkTck
}

/** utime+stime in clock ticks, or null when the process is gone. */
export function readCpuTicks (pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // comm may contain spaces and parentheses; fields resume after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch { return null }
}

/** Resident set size in bytes, or null when the process is gone. */
export function readRssBytes (pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status)
    return m ? Number(m[1]) * 1024 : null
  } catch { return null }
}

function postgresPids (): number[] {
  const pids: number[] = []
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(name))
    } catch { /* exited between readdir and read */ }
  }
  return pids
}

/**
 * Periodic sampler. start() takes a first reading; stop() returns averages over the window.
 * Postgres CPU is summed over every process named "postgres" (backends come and go; only
 * processes seen in consecutive samples contribute).
 */
export class ProcSampler {
  private timer: NodeJS.Timeout | undefined
  private lastTicks: number | null = null
  private lastAt = 0
  private firstTicks: number | null = null
  private firstAt = 0
  private cpuMax = 0
  private rssSum = 0
  private rssMax = 0
  private n = 0
  private pgLast = new Map<number, number>()
  private pgTicks = 0
  private pgFirstAt = 0
  private clientStart = process.cpuUsage()
  private clientStartAt = 0
  private systemStart = { busy: 0, total: 0 }

  constructor (private readonly pid: number | null, private readonly withPostgres: boolean, private readonly intervalMs = 500) {}

  start (): void {
    const now = performance.now()
    this.clientStart = process.cpuUsage()
    this.clientStartAt = now
    this.systemStart = readSystemTicks()
    if (this.pid != null) {
      this.firstTicks = this.lastTicks = readCpuTicks(this.pid)
      this.firstAt = this.lastAt = now
    }
    if (this.withPostgres) {
      this.pgFirstAt = now
      for (const p of postgresPids()) {
        const t = readCpuTicks(p)
        if (t != null) this.pgLast.set(p, t)
      }
    }
    this.timer = setInterval(() => this.sample(), this.intervalMs)
    this.timer.unref()
  }

  private sample (): void {
    const now = performance.now()
    if (this.pid != null) {
      const ticks = readCpuTicks(this.pid)
      const rss = readRssBytes(this.pid)
      if (ticks != null && this.lastTicks != null && now > this.lastAt) {
        const pct = ((ticks - this.lastTicks) / ticksPerSecond()) / ((now - this.lastAt) / 1000) * 100
        this.cpuMax = Math.max(this.cpuMax, pct)
      }
      if (ticks != null) { this.lastTicks = ticks; this.lastAt = now }
      if (rss != null) { this.rssSum += rss; this.rssMax = Math.max(this.rssMax, rss); this.n++ }
    }
    if (this.withPostgres) {
      const next = new Map<number, number>()
      for (const p of postgresPids()) {
        const t = readCpuTicks(p)
        if (t == null) continue
        next.set(p, t)
        const prev = this.pgLast.get(p)
        if (prev !== undefined) this.pgTicks += t - prev
      }
      this.pgLast = next
    }
  }

  stop (): SampleReport {
    if (this.timer) clearInterval(this.timer)
    this.sample()
    const now = performance.now()
    const cu = process.cpuUsage(this.clientStart)
    const clientPct = (cu.user + cu.system) / 1000 / (now - this.clientStartAt) * 100
    let server: ProcStats | null = null
    if (this.pid != null && this.firstTicks != null && this.lastTicks != null) {
      const secs = (this.lastAt - this.firstAt) / 1000
      server = {
        cpuAvgPct: secs > 0 ? (this.lastTicks - this.firstTicks) / ticksPerSecond() / secs * 100 : 0,
        cpuMaxPct: this.cpuMax,
        rssAvgMB: this.n ? this.rssSum / this.n / 1048576 : 0,
        rssMaxMB: this.rssMax / 1048576,
        samples: this.n
      }
    }
    const pgSecs = (now - this.pgFirstAt) / 1000
    const postgres = this.withPostgres ? { cpuAvgPct: pgSecs > 0 ? this.pgTicks / ticksPerSecond() / pgSecs * 100 : 0 } : null
    const sys = readSystemTicks()
    const systemPct = (sys.busy - this.systemStart.busy) / ticksPerSecond() / ((now - this.clientStartAt) / 1000) * 100
    // an in-process server is the client process: do not count it twice
    const serverPct = this.pid === process.pid ? 0 : (server?.cpuAvgPct ?? 0)
    return {
      server,
      postgres,
      client: { cpuAvgPct: clientPct },
      otherCpuPct: Math.max(0, systemPct - serverPct - (postgres?.cpuAvgPct ?? 0) - clientPct)
    }
  }
}
