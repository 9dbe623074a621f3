// Scenario `throughput`: a rate sweep over N chats per target; highest rate with p99 send->deliver <= limit and zero loss.
import { LoadClient, type Recording } from '../lib/load-client.js'
import { createChats, runTag } from '../lib/fixtures.js'
import { ProcSampler, type SampleReport } from '../lib/proc-sampler.js'
import { checkStorage } from '../lib/storage-check.js'
import { summarize, round, ratio, type LatencySummary } from '../lib/stats.js'
import { describeMachine, defaultResultsDir, writeResults, table, type Machine } from '../lib/results.js'
import { resolveTargets, withTarget, noLog, type CommonOptions } from '../lib/common.js'
import { onPostgres, type TargetKind } from '../lib/target.js'

export interface ThroughputOptions extends CommonOptions {
  rates?: number[]
  chats?: number
  warmupMs?: number
  durationMs?: number
  /** how long to wait for the last acks/deliveries after the schedule ends */
  drainMs?: number
  p99LimitMs?: number
  /** keep sweeping after a failed step (default: stop at the first failure) */
  fullSweep?: boolean
  connectConcurrency?: number
}

export interface StepResult {
  rate: number
  sent: number
  measured: number
  deliveredPerSec: number
  deliver: LatencySummary
  ack: LatencySummary
  /** how late the client handed frames to the socket versus the schedule */
  sendLag: LatencySummary
  notAcked: number
  notDelivered: number
  errored: number
  duplicates: number
  doubleAcks: number
  ackedNotStored: number | null
  storedTwice: number | null
  storedNotAcked: number | null
  errors: Record<string, number>
  drained: boolean
  sampled: SampleReport
  /** CPU microseconds per delivered message: the cost figures that survive a noisy machine better than latency */
  cpuUsPerMsg: { server: number | null, postgres: number | null, client: number }
  pass: boolean
}

export interface TargetSweep {
  kind: TargetKind
  database: string
  chats: number
  connectMs: number
  steps: StepResult[]
  maxPassingRate: number | null
  seqGaps: number
  framesReceived: Record<string, number>
}

export interface ThroughputResult {
  scenario: 'throughput'
  startedAt: string
  machine: Machine
  options: Record<string, unknown>
  targets: TargetSweep[]
  table: string
  path: string
}

export const DEFAULT_RATES = [1000, 2000, 5000, 10000, 15000, 20000, 30000, 40000]

/** Turns one recording into figures for its measured window (messages scheduled after warm-up). */
export function summarizeStep (rec: Recording, rate: number, durationMs: number, duplicates: number, sampled: SampleReport, drained: boolean, p99LimitMs: number): StepResult {
  const n = rec.total - rec.measureFrom
  const deliverLat = new Float64Array(n)
  const ackLat = new Float64Array(n)
  const lag = new Float64Array(n)
  let nd = 0
  let na = 0
  let notAcked = 0
  let notDelivered = 0
  let deliveredInWindow = 0
  for (let i = 0; i < rec.total; i++) {
    const d = rec.deliverAt[i] as number
    if (d >= rec.windowStart && d <= rec.windowEnd) deliveredInWindow++
    if (rec.errored[i] === 1) continue
    if (rec.ackAt[i] === 0) notAcked++
    if (d === 0) notDelivered++
    if (i < rec.measureFrom) continue
    lag[i - rec.measureFrom] = (rec.sentAt[i] as number) - (rec.sched[i] as number)
    if (d !== 0) deliverLat[nd++] = d - (rec.sched[i] as number)
    if (rec.ackAt[i] !== 0) ackLat[na++] = (rec.ackAt[i] as number) - (rec.sched[i] as number)
  }
  const deliver = summarize(deliverLat, nd)
  const ack = summarize(ackLat, na)
  const errorCount = Object.values(rec.errors).reduce((a, b) => a + b, 0)
  return {
    rate,
    sent: rec.sent,
    measured: n,
    deliveredPerSec: round(deliveredInWindow / (durationMs / 1000), 0),
    deliver: roundSummary(deliver),
    ack: roundSummary(ack),
    sendLag: roundSummary(summarize(lag, n)),
    notAcked,
    notDelivered,
    errored: rec.erroredCount,
    duplicates,
    doubleAcks: rec.doubleAcks,
    ackedNotStored: null,
    storedTwice: null,
    storedNotAcked: null,
    errors: { ...rec.errors },
    drained,
    sampled,
    cpuUsPerMsg: {
      server: perMsg(sampled.server?.cpuAvgPct, deliveredInWindow / (durationMs / 1000)),
      postgres: perMsg(sampled.postgres?.cpuAvgPct, deliveredInWindow / (durationMs / 1000)),
      client: perMsg(sampled.client.cpuAvgPct, deliveredInWindow / (durationMs / 1000)) ?? 0
    },
    pass: nd > 0 && deliver.p99 <= p99LimitMs && notAcked === 0 && notDelivered === 0 && errorCount === 0 && duplicates === 0 && rec.doubleAcks === 0
  }
}

function perMsg (cpuPct: number | undefined, perSec: number): number | null {
  return cpuPct === undefined || perSec <= 0 ? null : round(cpuPct / 100 * 1e6 / perSec, 0)
}

function roundSummary (s: LatencySummary): LatencySummary {
  return { count: s.count, p50: round(s.p50), p95: round(s.p95), p99: round(s.p99), max: round(s.max), mean: round(s.mean) }
}

export async function throughput (opts: ThroughputOptions = {}): Promise<ThroughputResult> {
  const log = opts.log ?? noLog
  const rates = opts.rates ?? DEFAULT_RATES
  const chats = opts.chats ?? 1000
  const warmupMs = opts.warmupMs ?? 3000
  const durationMs = opts.durationMs ?? 10_000
  const drainMs = opts.drainMs ?? 10_000
  const p99LimitMs = opts.p99LimitMs ?? 50
  const startedAt = new Date().toISOString()
  const machine = await describeMachine(opts.databaseUrl)
  const sweeps: TargetSweep[] = []

  for (const kind of resolveTargets(opts)) {
    const sweep = await withTarget(kind, opts, async (target) => {
      const tag = runTag()
      log(`[${kind}] creating ${chats} chats`)
      const benchChats = await createChats(target, chats, tag)
      const client = new LoadClient(target.wsBase, benchChats, tag)
      const { ms: connectMs, failed } = await client.connectAll(opts.connectConcurrency ?? 64)
      log(`[${kind}] ${chats * 2} sockets connected in ${Math.round(connectMs)} ms (${failed} failed)`)
      const steps: StepResult[] = []
      const recordings: Recording[] = []
      for (const rate of rates) {
        const dupBefore = client.duplicates()
        const sampler = new ProcSampler(target.pid, onPostgres(kind))
        // sample the measured window only, not the warm-up
        const samplerStart = setTimeout(() => sampler.start(), warmupMs + 20)
        const rec = await client.run({ rate, warmupMs, durationMs })
        clearTimeout(samplerStart)
        const sampled = sampler.stop()
        const drained = await client.drain(rec, drainMs)
        const step = summarizeStep(rec, rate, durationMs, client.duplicates() - dupBefore, sampled, drained, p99LimitMs)
        steps.push(step)
        recordings.push(rec)
        log(`[${kind}] ${rate} msg/s: delivered ${step.deliveredPerSec}/s p50 ${step.deliver.p50} p99 ${step.deliver.p99} max ${step.deliver.max} ms, ` +
          `send lag p99 ${step.sendLag.p99} ms, not acked ${step.notAcked}, not delivered ${step.notDelivered}, errors ${JSON.stringify(step.errors)}, ` +
          `server CPU ${round(sampled.server?.cpuAvgPct ?? NaN, 0)}% -> ${step.pass ? 'pass' : 'FAIL'}`)
        if (!step.pass && !opts.fullSweep) break
      }
      const seqGaps = client.gaps()
      log(`[${kind}] frames received: ${JSON.stringify(client.frames)}`)
      await client.closeAll()
      const checks = await target.useDb(async db => await checkStorage(db, benchChats.map(c => c.id), recordings))
      checks?.forEach((c, i) => {
        const step = steps[i] as StepResult
        Object.assign(step, c)
        if (c.ackedNotStored > 0 || c.storedTwice > 0) step.pass = false
      })
      const passing = steps.filter(s => s.pass).map(s => s.rate)
      return {
        kind,
        database: target.database,
        chats,
        connectMs: round(connectMs, 0),
        steps,
        maxPassingRate: passing.length ? Math.max(...passing) : null,
        framesReceived: { ...client.frames },
        seqGaps
      } satisfies TargetSweep
    })
    sweeps.push(sweep)
  }

  const text = renderThroughput(sweeps, p99LimitMs)
  const result: Omit<ThroughputResult, 'path'> = {
    scenario: 'throughput',
    startedAt,
    machine,
    options: { rates, chats, warmupMs, durationMs, drainMs, p99LimitMs, targets: sweeps.map(s => s.kind), against: opts.against ?? null },
    targets: sweeps,
    table: text
  }
  const path = writeResults(opts.resultsDir ?? defaultResultsDir(), 'throughput', result)
  return { ...result, path }
}

export function renderThroughput (sweeps: TargetSweep[], p99LimitMs: number): string {
  const relay = sweeps.find(s => s.kind === 'relay')
  const relayAt = (rate: number): StepResult | undefined => relay?.steps.find(s => s.rate === rate)
  const rows = sweeps.flatMap(sw => sw.steps.map(s => {
    const base = sw.kind === 'relay' ? undefined : relayAt(s.rate)
    const lost = s.notAcked + s.notDelivered + (s.ackedNotStored ?? 0)
    const errs = Object.values(s.errors).reduce((a, b) => a + b, 0)
    return [sw.kind, s.rate, s.deliveredPerSec, s.deliver.p50, s.deliver.p95, s.deliver.p99, s.deliver.max, s.ack.p99,
      lost, s.duplicates + (s.storedTwice ?? 0), errs, s.sampled.server?.cpuAvgPct, s.sampled.server?.rssMaxMB,
      s.sampled.postgres?.cpuAvgPct, s.sampled.client.cpuAvgPct, s.sampled.otherCpuPct,
      s.cpuUsPerMsg.server, s.cpuUsPerMsg.postgres, s.cpuUsPerMsg.client,
      base ? ratio(s.deliver.p99, base.deliver.p99) : null,
      base ? ratio(s.sampled.server?.cpuAvgPct, base.sampled.server?.cpuAvgPct) : null,
      s.pass]
  }))
  const steps = table(['target', 'rate/s', 'delivered/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'ack p99', 'lost', 'dup', 'errors',
    'srv CPU%', 'srv RSS MB', 'pg CPU%', 'client CPU%', 'other CPU%', 'srv µs/msg', 'pg µs/msg', 'client µs/msg', 'p99 ×relay', 'CPU ×relay', 'ok'], rows)
  const best = relay?.maxPassingRate ?? null
  const summary = table(['target', `max rate with p99 ≤ ${p99LimitMs} ms and 0 loss`, '× relay', 'seq gaps'],
    sweeps.map(sw => [sw.kind, sw.maxPassingRate, sw.kind === 'relay' ? null : ratio(sw.maxPassingRate, best), sw.seqGaps]))
  return `${steps}\n\n${summary}`
}
