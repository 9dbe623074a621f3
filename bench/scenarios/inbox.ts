// Scenario `inbox`: a seeded data set (1M messages / 100k chats, one seller with 2,000 chats); REST read latencies.
import { seedInbox, HOT_SELLER, type SeedShape } from '../lib/seed.js'
import { participant } from '../lib/fixtures.js'
import { ProcSampler, type SampleReport } from '../lib/proc-sampler.js'
import { summarize, round, roundSummary, ratio, type LatencySummary } from '../lib/stats.js'
import { describeMachine, defaultResultsDir, writeResults, table, type Machine } from '../lib/results.js'
import { resolveTargets, withTarget, noLog, type CommonOptions } from '../lib/common.js'
import { onPostgres, type Target, type TargetKind } from '../lib/target.js'

export interface InboxOptions extends CommonOptions, Partial<SeedShape> {
  /** calls per endpoint, one at a time */
  calls?: number
  warmupCalls?: number
}

export interface EndpointResult {
  name: string
  path: string
  latency: LatencySummary
  errors: number
  bytes: number
}

export interface InboxTarget {
  kind: TargetKind
  database: string
  seeded: { chats: number, messages: number } | null
  seedMs: number | null
  endpoints: EndpointResult[]
  sampled: SampleReport
}

export interface InboxResult {
  scenario: 'inbox'
  startedAt: string
  machine: Machine
  options: Record<string, unknown>
  targets: InboxTarget[]
  table: string
  path: string
}

interface ChatRef { id: string }

/** Seeds through the database the target exposes, restarting a PGlite service that had to let go of its files. */
async function seed (target: Target, shape: SeedShape): Promise<{ rows: { chats: number, messages: number }, ms: number }> {
  const t0 = performance.now()
  const rows = await target.useDb(async db => await seedInbox(db, shape), { restart: true })
  if (rows === null) throw new Error(`inbox: cannot seed ${target.kind} (no database access; pass --database-url with --against)`)
  return { rows, ms: performance.now() - t0 }
}

export async function inbox (opts: InboxOptions = {}): Promise<InboxResult> {
  const log = opts.log ?? noLog
  const shape: SeedShape = {
    chats: opts.chats ?? 100_000,
    messages: opts.messages ?? 1_000_000,
    sellerChats: opts.sellerChats ?? 2000,
    listings: opts.listings ?? 300
  }
  const calls = opts.calls ?? 1000
  const warmupCalls = opts.warmupCalls ?? Math.min(50, calls)
  const startedAt = new Date().toISOString()
  const machine = await describeMachine(opts.databaseUrl)
  const results: InboxTarget[] = []

  for (const kind of resolveTargets(opts)) {
    results.push(await withTarget(kind, opts, async (target) => {
      let seeded: { chats: number, messages: number } | null = null
      let seedMs: number | null = null
      if (kind !== 'relay') {
        log(`[${kind}] seeding ${shape.messages} messages over ${shape.chats} chats`)
        const s = await seed(target, shape)
        seeded = s.rows
        seedMs = round(s.ms, 0)
        log(`[${kind}] seeded ${s.rows.chats} chats / ${s.rows.messages} messages in ${Math.round(s.ms / 1000)} s`)
      }
      const seller = participant(target, HOT_SELLER)
      // the hot seller's chats, for history pages spread over many chats (relay: any path answers)
      let chatIds: string[] = ['relay-chat']
      if (kind !== 'relay') {
        const res = await target.http.json<{ chats: ChatRef[] }>('GET', '/api/chat/chats/my?role=seller&limit=100', seller.token)
        chatIds = (res.body?.chats ?? []).map(c => c.id)
        if (chatIds.length === 0) throw new Error(`[${kind}] seeded seller has no chats: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`)
      }
      // the grouped inbox's page cursors, walked once: the paged endpoint is then called on every page in turn
      const grouped = `/api/chat/chats/seller/${HOT_SELLER}/grouped`
      const pageQueries: string[] = ['?limit=50']
      if (kind !== 'relay') {
        for (let page = 0; page < 1000; page++) {
          const res = await target.http.json<{ next_cursor: string | null }>('GET', grouped + (pageQueries[page] as string), seller.token)
          const next = res.body?.next_cursor ?? null
          if (next === null) break
          pageQueries.push(`?limit=50&cursor=${next}`)
        }
      }
      const endpoints: Array<{ name: string, path: (i: number) => string }> = [
        { name: 'grouped inbox', path: () => grouped },
        { name: 'grouped page 1 (50)', path: () => grouped + '?limit=50' },
        { name: `grouped pages 1-${pageQueries.length} (50)`, path: (i) => grouped + (pageQueries[i % pageQueries.length] as string) },
        { name: 'chat list (50)', path: () => '/api/chat/chats/my?role=seller&limit=50' },
        { name: 'unread count', path: () => '/api/chat/unread-count' },
        { name: 'history page (50)', path: (i) => `/api/chat/chats/${chatIds[i % chatIds.length] as string}/messages?limit=50` }
      ]
      const sampler = new ProcSampler(target.pid, onPostgres(kind))
      sampler.start()
      const out: EndpointResult[] = []
      for (const ep of endpoints) {
        const lat = new Float64Array(calls)
        let errors = 0
        let bytes = 0
        for (let i = 0; i < warmupCalls + calls; i++) {
          const res = await target.http.json('GET', ep.path(i), seller.token)
          if (res.status !== 200) errors++
          if (i < warmupCalls) continue
          lat[i - warmupCalls] = res.ms
          if (i === warmupCalls) bytes = res.bytes
        }
        const s = summarize(lat, calls)
        out.push({ name: ep.name, path: ep.path(0), latency: roundSummary(s), errors, bytes })
        log(`[${kind}] ${ep.name}: p50 ${round(s.p50)} p99 ${round(s.p99)} ms, ${errors} errors, ${bytes} bytes`)
      }
      return { kind, database: target.database, seeded, seedMs, endpoints: out, sampled: sampler.stop() } satisfies InboxTarget
    }))
  }

  const text = renderInbox(results)
  const result: Omit<InboxResult, 'path'> = {
    scenario: 'inbox',
    startedAt,
    machine,
    options: { ...shape, calls, warmupCalls, targets: results.map(r => r.kind) },
    targets: results,
    table: text
  }
  return { ...result, path: writeResults(opts.resultsDir ?? defaultResultsDir(), 'inbox', result) }
}

export function renderInbox (rows: InboxTarget[]): string {
  const relay = rows.find(r => r.kind === 'relay')
  return table(['target', 'endpoint', 'calls', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors', 'bytes', 'p99 ×relay (HTTP floor)'],
    rows.flatMap(r => r.endpoints.map((e, i) => [r.kind, e.name, e.latency.count, e.latency.p50, e.latency.p95, e.latency.p99, e.latency.max,
      e.errors, e.bytes, r.kind === 'relay' ? null : ratio(e.latency.p99, relay?.endpoints[i]?.latency.p99)])))
}
