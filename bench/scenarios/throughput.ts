// Scenario `throughput`: a rate sweep over N chats per target; highest rate with p99 send->deliver <= limit and zero loss, then optional tail runs below it.
import { LoadClient, START_DELAY_MS, type ClientTally, type Recording } from '../lib/load-client.js'
import { WorkerLoadClient, defaultClientWorkers, type SweepClient } from '../lib/load-workers.js'
import { scrapeLoopDelay, type LoopDelay } from '../lib/loop-delay.js'
import { createChats, runTag } from '../lib/fixtures.js'
import { ProcSampler, type SampleReport } from '../lib/proc-sampler.js'
import { checkStorage } from '../lib/storage-check.js'
import { summarize, round, roundSummary, ratio, type LatencySummary } from '../lib/stats.js'
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
  /**
   * Threads the load client runs on; 0 keeps it in the main thread. Default: one per core the target leaves free
   * (at least 1, at most 4), so the relay's highest passing rate is the relay's limit and not the client's.
   */
  clientWorkers?: number
  /**
   * After the sweep, run each target again at these percentages of its highest passing rate (e.g. 25, 50, 75):
   * the tail latency (p99, p99.9) a service shows with headroom, not only at its limit.
   */
  tailAt?: number[]
  /** explicit rates for those extra runs, the same for every target (for comparing targets at equal load) */
  tailRates?: number[]
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
  /** the target's event-loop delay over the measured window, when it has a /metrics to read it from */
  eventLoop: LoopDelay | null
  /** for a tail run: the percentage of the sweep's highest passing rate it ran at (null for explicit rates) */
  percentOfMax?: number | null
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
  /** the runs below the highest passing rate (ThroughputOptions.tailAt / tailRates); not part of the sweep's verdict */
  tail: StepResult[]
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
export function summarizeStep (rec: Recording, rate: number, durationMs: number, duplicates: number, sampled: SampleReport, drained: boolean, p99LimitMs: number, eventLoop: LoopDelay | null = null): StepResult {
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
    eventLoop,
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

/** The tail runs' rates: percentages of the highest passing rate, then any explicit rates. */
export function tailRatesFor (maxPassingRate: number | null, tailAt: number[], tailRates: number[]): Array<{ rate: number, percentOfMax: number | null }> {
  const fromMax = maxPassingRate === null ? [] : tailAt.map(p => ({ rate: Math.max(1, Math.round(maxPassingRate * p / 100)), percentOfMax: p }))
  return [...fromMax, ...tailRates.map(rate => ({ rate, percentOfMax: null }))]
}

export async function throughput (opts: ThroughputOptions = {}): Promise<ThroughputResult> {
  const log = opts.log ?? noLog
  const rates = opts.rates ?? DEFAULT_RATES
  const chats = opts.chats ?? 1000
  const warmupMs = opts.warmupMs ?? 3000
  const durationMs = opts.durationMs ?? 10_000
  const drainMs = opts.drainMs ?? 10_000
  const p99LimitMs = opts.p99LimitMs ?? 50
  const clientWorkers = Math.min(chats, opts.clientWorkers ?? defaultClientWorkers())
  const tailAt = opts.tailAt ?? []
  const tailRates = opts.tailRates ?? []
  const startedAt = new Date().toISOString()
  const machine = await describeMachine(opts.databaseUrl)
  const sweeps: TargetSweep[] = []

  for (const kind of resolveTargets(opts)) {
    const sweep = await withTarget(kind, opts, async (target) => {
      const tag = runTag()
      log(`[${kind}] creating ${chats} chats`)
      const benchChats = await createChats(target, chats, tag)
      const client: SweepClient = clientWorkers > 0
        ? new WorkerLoadClient(target.wsBase, benchChats, tag, clientWorkers)
        : new LoadClient(target.wsBase, benchChats, tag)
      const steps: StepResult[] = []
      const tail: StepResult[] = []
      const recordings: Recording[] = []
      let connectMs = 0

      /** One scheduled run: CPU and the target's event-loop delay sampled over the measured window only. */
      const runStep = async (rate: number): Promise<StepResult> => {
        const dupBefore = (await client.tally()).duplicates
        const sampler = new ProcSampler(target.pid, onPostgres(kind))
        // a scrape at the window's start resets the delay histogram; the one at its end reads the window
        let loopReset: Promise<unknown> = Promise.resolve()
        const samplerStart = setTimeout(() => { sampler.start(); loopReset = scrapeLoopDelay(target.http, target.metricsToken) }, START_DELAY_MS + warmupMs)
        const rec = await client.run({ rate, warmupMs, durationMs })
        clearTimeout(samplerStart)
        const sampled = sampler.stop()
        await loopReset
        const eventLoop = await scrapeLoopDelay(target.http, target.metricsToken)
        const drained = await client.drain(rec, drainMs)
        const step = summarizeStep(rec, rate, durationMs, (await client.tally()).duplicates - dupBefore, sampled, drained, p99LimitMs, eventLoop)
        recordings.push(rec)
        log(`[${kind}] ${rate} msg/s: delivered ${step.deliveredPerSec}/s p50 ${step.deliver.p50} p99 ${step.deliver.p99} p99.9 ${step.deliver.p999} ` +
          `max ${step.deliver.max} ms, send lag p99 ${step.sendLag.p99} ms, not acked ${step.notAcked}, not delivered ${step.notDelivered}, ` +
          `errors ${JSON.stringify(step.errors)}, server CPU ${round(sampled.server?.cpuAvgPct ?? NaN, 0)}% ` +
          `loop delay p99 ${eventLoop?.p99 ?? '-'} max ${eventLoop?.max ?? '-'} ms, client CPU ${round(sampled.client.cpuAvgPct, 0)}% -> ${step.pass ? 'pass' : 'FAIL'}`)
        return step
      }

      let tally: ClientTally | null = null
      try {
        const connected = await client.connectAll(opts.connectConcurrency ?? 64)
        connectMs = connected.ms
        log(`[${kind}] ${chats * 2} sockets connected in ${Math.round(connectMs)} ms (${connected.failed} failed; load client on ` +
          `${clientWorkers > 0 ? `${clientWorkers} worker thread${clientWorkers > 1 ? 's' : ''}` : 'the main thread'})`)
        for (const rate of rates) {
          const step = await runStep(rate)
          steps.push(step)
          if (!step.pass && !opts.fullSweep) break
        }
        // the storage check needs the service stopped (PGlite), so the tail runs go by the sweep's verdict before it
        for (const { rate, percentOfMax } of tailRatesFor(maxPassing(steps), tailAt, tailRates)) {
          log(`[${kind}] tail run at ${rate} msg/s${percentOfMax === null ? '' : ` (${percentOfMax} % of the highest passing rate)`}`)
          tail.push({ ...await runStep(rate), percentOfMax })
        }
      } finally {
        tally = await client.tally().catch(() => null)
        await client.closeAll()
      }
      log(`[${kind}] frames received: ${JSON.stringify(tally?.frames ?? {})}`)
      const checks = await target.useDb(async db => await checkStorage(db, benchChats.map(c => c.id), recordings))
      checks?.forEach((c, i) => {
        const step = (i < steps.length ? steps[i] : tail[i - steps.length]) as StepResult
        Object.assign(step, c)
        if (c.ackedNotStored > 0 || c.storedTwice > 0) step.pass = false
      })
      return {
        kind,
        database: target.database,
        chats,
        connectMs: round(connectMs, 0),
        steps,
        maxPassingRate: maxPassing(steps),
        tail,
        framesReceived: { ...tally?.frames },
        seqGaps: tally?.gaps ?? NaN
      } satisfies TargetSweep
    })
    sweeps.push(sweep)
  }

  const text = renderThroughput(sweeps, p99LimitMs, clientWorkers)
  const result: Omit<ThroughputResult, 'path'> = {
    scenario: 'throughput',
    startedAt,
    machine,
    options: { rates, chats, warmupMs, durationMs, drainMs, p99LimitMs, clientWorkers, tailAt, tailRates, targets: sweeps.map(s => s.kind), against: opts.against ?? null },
    targets: sweeps,
    table: text
  }
  const path = writeResults(opts.resultsDir ?? defaultResultsDir(), 'throughput', result)
  return { ...result, path }
}

function maxPassing (steps: StepResult[]): number | null {
  const passing = steps.filter(s => s.pass).map(s => s.rate)
  return passing.length ? Math.max(...passing) : null
}

export function renderThroughput (sweeps: TargetSweep[], p99LimitMs: number, clientWorkers?: number): string {
  const relay = sweeps.find(s => s.kind === 'relay')
  const relayAt = (rate: number): StepResult | undefined => relay?.steps.find(s => s.rate === rate)
  const rows = sweeps.flatMap(sw => sw.steps.map(s => {
    const base = sw.kind === 'relay' ? undefined : relayAt(s.rate)
    const lost = s.notAcked + s.notDelivered + (s.ackedNotStored ?? 0)
    const errs = Object.values(s.errors).reduce((a, b) => a + b, 0)
    return [sw.kind, s.rate, s.deliveredPerSec, s.deliver.p50, s.deliver.p95, s.deliver.p99, s.deliver.p999, s.deliver.max, s.ack.p99,
      lost, s.duplicates + (s.storedTwice ?? 0), errs, s.eventLoop?.p99, s.eventLoop?.max, s.sampled.server?.cpuAvgPct, s.sampled.server?.rssMaxMB,
      s.sampled.postgres?.cpuAvgPct, s.sampled.client.cpuAvgPct, s.sampled.otherCpuPct,
      s.cpuUsPerMsg.server, s.cpuUsPerMsg.postgres, s.cpuUsPerMsg.client,
      base ? ratio(s.deliver.p99, base.deliver.p99) : null,
      base ? ratio(s.sampled.server?.cpuAvgPct, base.sampled.server?.cpuAvgPct) : null,
      s.pass]
  }))
  const steps = table(['target', 'rate/s', 'delivered/s', 'p50 ms', 'p95 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'ack p99', 'lost', 'dup', 'errors',
    'loop p99 ms', 'loop max ms', 'srv CPU%', 'srv RSS MB', 'pg CPU%', 'client CPU%', 'other CPU%', 'srv µs/msg', 'pg µs/msg', 'client µs/msg',
    'p99 ×relay', 'CPU ×relay', 'ok'], rows)
  const best = relay?.maxPassingRate ?? null
  // the CPU beside the highest passing rate: a client near a full core there means the figure is the client's limit
  const at = (sw: TargetSweep): StepResult | undefined => sw.steps.find(s => s.rate === sw.maxPassingRate)
  const summary = table(['target', `max rate with p99 ≤ ${p99LimitMs} ms and 0 loss`, '× relay', 'seq gaps', 'srv CPU% there', 'client CPU% there', 'client µs/msg there'],
    sweeps.map(sw => [sw.kind, sw.maxPassingRate, sw.kind === 'relay' ? null : ratio(sw.maxPassingRate, best), sw.seqGaps,
      at(sw)?.sampled.server?.cpuAvgPct, at(sw)?.sampled.client.cpuAvgPct, at(sw)?.cpuUsPerMsg.client]))
  const tailRows = sweeps.flatMap(sw => sw.tail.map(s => [sw.kind, s.percentOfMax == null ? null : `${s.percentOfMax} %`, s.rate,
    s.deliver.p50, s.deliver.p99, s.deliver.p999, s.deliver.max, s.eventLoop?.p99, s.eventLoop?.max,
    s.notAcked + s.notDelivered + (s.ackedNotStored ?? 0), s.duplicates + (s.storedTwice ?? 0),
    s.sampled.server?.cpuAvgPct, s.sampled.client.cpuAvgPct, s.cpuUsPerMsg.client, s.sampled.otherCpuPct]))
  const tail = tailRows.length === 0
    ? ''
    : '\n\n' + table(['target', 'of max', 'rate/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'loop p99 ms', 'loop max ms', 'lost', 'dup',
      'srv CPU%', 'client CPU%', 'client µs/msg', 'other CPU%'], tailRows)
  const client = clientWorkers === undefined
    ? ''
    : `\n\nload client: ${clientWorkers > 0 ? `${clientWorkers} worker thread${clientWorkers > 1 ? 's' : ''}` : 'main thread only'}; ` +
      'client CPU covers every thread; loop = the target\'s event-loop delay over the measured window'
  return `${steps}\n\n${summary}${tail}${client}`
}
