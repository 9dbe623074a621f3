// Scenario `capacity`: thousands of idle sockets (half chat streams, half inbox streams); RSS per connection and connect time.
import { LoadClient, InboxSocket, type ChatSocket } from '../lib/load-client.js'
import { createChats, runTag } from '../lib/fixtures.js'
import { readRssBytes, ProcSampler, type SampleReport } from '../lib/proc-sampler.js'
import { sleep } from '../lib/http.js'
import { summarize, round, ratio, type LatencySummary } from '../lib/stats.js'
import { describeMachine, defaultResultsDir, writeResults, table, type Machine } from '../lib/results.js'
import { resolveTargets, withTarget, noLog, type CommonOptions } from '../lib/common.js'
import { onPostgres, type TargetKind } from '../lib/target.js'

export interface CapacityOptions extends CommonOptions {
  /** total sockets; half chat streams (both sides of connections/4 chats), half inbox streams (one per user) */
  connections?: number
  /** handshakes in flight at once */
  concurrency?: number
  /** how long the sockets stay open idle before the final RSS reading */
  holdMs?: number
  /** idle time before the baseline RSS reading, so start-up garbage is not counted against the sockets */
  settleMs?: number
}

export interface CapacityTarget {
  kind: TargetKind
  database: string
  connections: number
  connected: number
  failed: number
  errors: Record<string, number>
  connectMs: number
  connectsPerSec: number
  handshake: LatencySummary
  rssBeforeMB: number | null
  rssAfterMB: number | null
  rssPerConnKB: number | null
  sampled: SampleReport
}

export interface CapacityResult {
  scenario: 'capacity'
  startedAt: string
  machine: Machine
  options: Record<string, unknown>
  targets: CapacityTarget[]
  table: string
  path: string
}

const mb = (b: number | null): number | null => b === null ? null : round(b / 1048576, 1)

export async function capacity (opts: CapacityOptions = {}): Promise<CapacityResult> {
  const log = opts.log ?? noLog
  const connections = Math.max(4, opts.connections ?? 10_000)
  const concurrency = opts.concurrency ?? 200
  const holdMs = opts.holdMs ?? 3000
  const settleMs = opts.settleMs ?? 2000
  const chatsCount = Math.floor(connections / 4)
  const startedAt = new Date().toISOString()
  const machine = await describeMachine(opts.databaseUrl)
  const results: CapacityTarget[] = []

  for (const kind of resolveTargets(opts)) {
    results.push(await withTarget(kind, opts, async (target) => {
      const tag = runTag()
      log(`[${kind}] creating ${chatsCount} chats`)
      const chats = await createChats(target, chatsCount, tag)
      const client = new LoadClient(target.wsBase, chats, tag)
      const inboxes = client.sockets.map(s => new InboxSocket(s.user))
      await sleep(settleMs)
      const pid = target.pid
      const rssBefore = pid === null ? null : readRssBytes(pid)
      const sampler = new ProcSampler(pid, onPostgres(kind))
      sampler.start()

      // interleave chat and inbox sockets so both kinds are opened under the same load
      const jobs: Array<() => Promise<void>> = []
      client.sockets.forEach((s: ChatSocket, i) => {
        jobs.push(async () => { await s.connect(target.wsBase) })
        jobs.push(async () => { await (inboxes[i] as InboxSocket).connect(target.wsBase) })
      })
      const handshakes = new Float64Array(jobs.length)
      let nh = 0
      let failed = 0
      const errors: Record<string, number> = {}
      let next = 0
      log(`[${kind}] opening ${jobs.length} sockets, ${concurrency} at a time`)
      const t0 = performance.now()
      await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, async () => {
        while (next < jobs.length) {
          const job = jobs[next++] as () => Promise<void>
          const s = performance.now()
          try {
            await job()
            handshakes[nh++] = performance.now() - s
          } catch (err) {
            failed++
            const code = (err as Error).message
            errors[code] = (errors[code] ?? 0) + 1
          }
        }
      }))
      const connectMs = performance.now() - t0
      log(`[${kind}] ${nh} connected, ${failed} failed in ${Math.round(connectMs)} ms; holding ${holdMs} ms`)
      await sleep(holdMs)
      const rssAfter = pid === null ? null : readRssBytes(pid)
      const sampled = sampler.stop()
      for (const [code, n] of Object.entries(client.errors)) errors[code] = (errors[code] ?? 0) + n
      await client.closeAll()
      await Promise.all(inboxes.map(async s => await s.close()))
      return {
        kind,
        database: target.database,
        connections: jobs.length,
        connected: nh,
        failed,
        errors,
        connectMs: round(connectMs, 0),
        connectsPerSec: round(nh / (connectMs / 1000), 0),
        handshake: summarize(handshakes, nh),
        rssBeforeMB: mb(rssBefore),
        rssAfterMB: mb(rssAfter),
        rssPerConnKB: rssBefore !== null && rssAfter !== null && nh > 0 ? round((rssAfter - rssBefore) / nh / 1024, 2) : null,
        sampled
      } satisfies CapacityTarget
    }))
  }

  const text = renderCapacity(results)
  const result: Omit<CapacityResult, 'path'> = {
    scenario: 'capacity',
    startedAt,
    machine,
    options: { connections, concurrency, holdMs, settleMs, chats: chatsCount, targets: results.map(r => r.kind) },
    targets: results,
    table: text
  }
  return { ...result, path: writeResults(opts.resultsDir ?? defaultResultsDir(), 'capacity', result) }
}

export function renderCapacity (rows: CapacityTarget[]): string {
  const relay = rows.find(r => r.kind === 'relay')
  return table(['target', 'sockets', 'connected', 'failed', 'connect s', 'conn/s', 'handshake p50 ms', 'p99 ms',
    'RSS before MB', 'RSS after MB', 'KB/conn', 'KB/conn ×relay', 'conn time ×relay'],
  rows.map(r => [r.kind, r.connections, r.connected, r.failed, round(r.connectMs / 1000, 2), r.connectsPerSec,
    round(r.handshake.p50), round(r.handshake.p99), r.rssBeforeMB, r.rssAfterMB, r.rssPerConnKB,
    r.kind === 'relay' ? null : ratio(r.rssPerConnKB, relay?.rssPerConnKB),
    r.kind === 'relay' ? null : ratio(r.connectMs, relay?.connectMs)]))
}
