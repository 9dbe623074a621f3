// Machine description, the results JSON file under bench/results/, and plain-text tables for stdout.
import { cpus, totalmem, release, loadavg } from 'node:os'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openPostgres } from './db.js'
import { repoRoot } from './target.js'

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGB: number
  kernel: string
  node: string
  postgres: string | null
  pglite: string | null
  openFilesLimit: string | null
  /** 1-minute load average when the run started: anything well above 0 means something else shared the cores */
  loadAverageAtStart: number
}

function pkgVersion (name: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
  } catch { return null }
}

function openFilesLimit (): string | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find(l => l.startsWith('Max open files'))
    return line ? line.replace(/\s+/g, ' ').replace('Max open files ', '').trim() : null
  } catch { return null }
}

export async function describeMachine (databaseUrl?: string): Promise<Machine> {
  let postgres: string | null = null
  if (databaseUrl) {
    try {
      const db = await openPostgres(databaseUrl)
      try { postgres = ((await db.query<{ v: string }>('SELECT version() AS v'))[0]?.v ?? '').split(' on ')[0] ?? null } finally { await db.close() }
    } catch (err) { postgres = `unreachable: ${(err as Error).message}` }
  }
  const c = cpus()
  return {
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryGB: Math.round(totalmem() / 2 ** 30 * 10) / 10,
    kernel: release(),
    node: process.version,
    postgres,
    pglite: pkgVersion('@electric-sql/pglite'),
    openFilesLimit: openFilesLimit(),
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100
  }
}

export function defaultResultsDir (): string { return join(repoRoot, 'bench', 'results') }

/** Writes `<dir>/<scenario>-<timestamp>.json` and returns its path. */
export function writeResults (dir: string, scenario: string, data: unknown): string {
  mkdirSync(dir, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const path = join(dir, `${scenario}-${stamp}.json`)
  writeFileSync(path, JSON.stringify(data, null, 2) + '\n')
  return path
}

export type Cell = string | number | null | undefined | boolean

function fmt (v: Cell): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '-'
  if (typeof v === 'boolean') return v ? 'yes' : 'NO'
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v)
    return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)
  }
  return v
}

/** A Markdown-compatible table (pipes), readable on a terminal and pasteable into docs/performance.md. */
export function table (headers: string[], rows: Cell[][]): string {
  const cells = rows.map(r => r.map(fmt))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map(r => (r[i] ?? '').length)))
  const line = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(widths[i] as number)).join(' | ') + ' |'
  return [line(headers), '|' + widths.map(w => '-'.repeat(w + 2)).join('|') + '|', ...cells.map(line)].join('\n')
}
