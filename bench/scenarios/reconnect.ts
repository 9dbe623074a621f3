// Scenario `reconnect`: every buyer socket drops at once mid-traffic and resumes with after_seq; catch-up time, loss, duplicates.
import { LoadClient, type ChatSocket, type Recording } from '../lib/load-client.js'
import { createChats, runTag } from '../lib/fixtures.js'
import { ProcSampler, type SampleReport } from '../lib/proc-sampler.js'
import { checkStorage } from '../lib/storage-check.js'
import { sleep } from '../lib/http.js'
import { summarize, round, roundSummary, ratio, type LatencySummary } from '../lib/stats.js'
import { describeMachine, defaultResultsDir, writeResults, table, type Machine } from '../lib/results.js'
import { resolveTargets, withTarget, noLog, type CommonOptions } from '../lib/common.js'
import { onPostgres, type TargetKind } from '../lib/target.js'

export interface ReconnectOptions extends CommonOptions {
  /** clients that drop and resume; each is the buyer of its own chat whose seller keeps sending */
  clients?: number
  /** total message rate across all chats, sent by the sellers throughout */
  rate?: number
  beforeMs?: number
  afterMs?: number
  drainMs?: number
  /** per-client reconnect attempts before it counts as failed */
  attempts?: number
}

export interface ReconnectTarget {
  kind: TargetKind
  database: string
  clients: number
  /** drop -> the last client has every message committed before the drop */
  allCaughtUpMs: number | null
  caughtUp: LatencySummary
  notCaughtUp: number
  reconnectFailures: number
  retries: number
  sent: number
  deliver: LatencySummary
  notAcked: number
  notDelivered: number
  seqGaps: number
  duplicates: number
  ackedNotStored: number | null
  storedTwice: number | null
  errors: Record<string, number>
  sampled: SampleReport
  pass: boolean
}

export interface ReconnectResult {
  scenario: 'reconnect'
  startedAt: string
  machine: Machine
  options: Record<string, unknown>
  targets: ReconnectTarget[]
  table: string
  path: string
}

async function resume (sock: ChatSocket, wsBase: string, attempts: number): Promise<number> {
  for (let a = 1; ; a++) {
    try {
      await sock.connect(wsBase, sock.tracker.resumePoint(), 15_000)
      return a - 1
    } catch (err) {
      if (a >= attempts) throw err
      // what a real client does after a refused reconnect: back off a little, then resume from where it is
      await sleep(50 * a + Math.random() * 50)
    }
  }
}

export async function reconnect (opts: ReconnectOptions = {}): Promise<ReconnectResult> {
  const log = opts.log ?? noLog
  const clients = opts.clients ?? 1000
  const rate = opts.rate ?? 1000
  const beforeMs = opts.beforeMs ?? 3000
  const afterMs = opts.afterMs ?? 5000
  const drainMs = opts.drainMs ?? 10_000
  const attempts = opts.attempts ?? 5
  const startedAt = new Date().toISOString()
  const machine = await describeMachine(opts.databaseUrl)
  const results: ReconnectTarget[] = []

  for (const kind of resolveTargets(opts)) {
    results.push(await withTarget(kind, opts, async (target) => {
      const tag = runTag()
      log(`[${kind}] creating ${clients} chats`)
      const chats = await createChats(target, clients, tag)
      const client = new LoadClient(target.wsBase, chats, tag)
      const { failed } = await client.connectAll(64)
      if (failed > 0) throw new Error(`[${kind}] ${failed} sockets failed to connect: ${JSON.stringify(client.errors)}`)
      const buyers = client.sockets.filter(s => s.side === 0)
      const caughtUpAt = new Float64Array(clients)
      let droppedAt = 0
      let reconnectFailures = 0
      let retries = 0
      let storm: Promise<void> | null = null
      const sampler = new ProcSampler(target.pid, onPostgres(kind))

      const startStorm = (): void => {
        sampler.start()
        droppedAt = performance.now()
        // what each buyer must have once resumed: everything committed before the drop
        const mustHave = buyers.map(b => client.chatMaxSeq[b.index >> 1] as number)
        for (const b of buyers) b.drop()
        storm = Promise.all(buyers.map(async (b, k) => {
          try {
            retries += await resume(b, target.wsBase, attempts)
            const need = mustHave[k] as number
            const end = performance.now() + 15_000
            while (b.tracker.contiguous < need && performance.now() < end) await sleep(5)
            if (b.tracker.contiguous >= need) caughtUpAt[k] = performance.now()
          } catch (err) {
            reconnectFailures++
            client.countError(`reconnect_${(err as Error).message}`)
          }
        })).then(() => {})
      }

      log(`[${kind}] ${rate} msg/s from ${clients} sellers; all ${clients} buyers drop after ${beforeMs} ms`)
      const stormAt = Math.round(rate * beforeMs / 1000)
      const rec: Recording = await client.run({
        rate,
        warmupMs: 0,
        durationMs: beforeMs + afterMs,
        pick: (i) => (i % clients) * 2 + 1,
        onTick: (i) => { if (storm === null && i >= stormAt) startStorm() }
      })
      if (storm === null) startStorm()
      await storm
      const sampled = sampler.stop()
      await client.drain(rec, drainMs)

      const lat = new Float64Array(rec.total)
      let nd = 0
      let notAcked = 0
      let notDelivered = 0
      for (let i = 0; i < rec.total; i++) {
        if (rec.errored[i] === 1) continue
        if (rec.ackAt[i] === 0) notAcked++
        const d = rec.deliverAt[i] as number
        if (d === 0) notDelivered++
        else lat[nd++] = d - (rec.sched[i] as number)
      }
      const caught = new Float64Array(clients)
      let nc = 0
      for (let k = 0; k < clients; k++) if (caughtUpAt[k] !== 0) caught[nc++] = (caughtUpAt[k] as number) - droppedAt
      const caughtUp = summarize(caught, nc)
      const seqGaps = client.gaps()
      const duplicates = client.duplicates()
      const errors = { ...client.errors }
      await client.closeAll()
      const [check] = await target.useDb(async db => await checkStorage(db, chats.map(ch => ch.id), [rec])) ?? []
      const ackedNotStored = check?.ackedNotStored ?? null
      const storedTwice = check?.storedTwice ?? null
      const allCaughtUpMs = nc === clients ? round(caughtUp.max, 1) : null
      const r: ReconnectTarget = {
        kind,
        database: target.database,
        clients,
        allCaughtUpMs,
        caughtUp: roundSummary(caughtUp),
        notCaughtUp: clients - nc,
        reconnectFailures,
        retries,
        sent: rec.sent,
        deliver: roundSummary(summarize(lat, nd)),
        notAcked,
        notDelivered,
        seqGaps,
        duplicates,
        ackedNotStored,
        storedTwice,
        errors,
        sampled,
        pass: allCaughtUpMs !== null && notAcked === 0 && notDelivered === 0 && seqGaps === 0 && duplicates === 0 &&
          (ackedNotStored ?? 0) === 0 && (storedTwice ?? 0) === 0
      }
      log(`[${kind}] all caught up in ${r.allCaughtUpMs ?? '-'} ms (p50 ${r.caughtUp.p50}), lost ${notDelivered + seqGaps}, dup ${duplicates}, retries ${retries}, errors ${JSON.stringify(errors)}`)
      return r
    }))
  }

  const text = renderReconnect(results)
  const result: Omit<ReconnectResult, 'path'> = {
    scenario: 'reconnect',
    startedAt,
    machine,
    options: { clients, rate, beforeMs, afterMs, drainMs, attempts, targets: results.map(r => r.kind) },
    targets: results,
    table: text
  }
  return { ...result, path: writeResults(opts.resultsDir ?? defaultResultsDir(), 'reconnect', result) }
}

export function renderReconnect (rows: ReconnectTarget[]): string {
  const relay = rows.find(r => r.kind === 'relay')
  return table(['target', 'clients', 'all caught up ms', 'catch-up p50 ms', 'p99 ms', '×relay', 'failed', 'retries',
    'deliver p99 ms', 'deliver max ms', 'lost', 'dup', 'srv CPU%', 'ok'],
  rows.map(r => [r.kind, r.clients, r.allCaughtUpMs, r.caughtUp.p50, r.caughtUp.p99,
    r.kind === 'relay' ? null : ratio(r.allCaughtUpMs, relay?.allCaughtUpMs),
    r.reconnectFailures + r.notCaughtUp, r.retries, r.deliver.p99, r.deliver.max,
    r.notAcked + r.notDelivered + r.seqGaps + (r.ackedNotStored ?? 0), r.duplicates + (r.storedTwice ?? 0),
    r.sampled.server?.cpuAvgPct, r.pass]))
}
