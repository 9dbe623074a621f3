// The load client spread over worker threads: each owns whole chats and sends its share of one shared schedule.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { cpus } from 'node:os'
import {
  LoadClient, Recording, START_DELAY_MS, planRun,
  type BenchChat, type ClientTally, type RecordingBuffers, type RecordingCounts, type ScheduleOptions
} from './load-client.js'

/** What the throughput sweep needs of a load client, in one thread or several. */
export interface SweepClient {
  connectAll: (concurrency: number) => Promise<{ ms: number, failed: number }>
  run: (opts: ScheduleOptions) => Promise<Recording>
  drain: (rec: Recording, timeoutMs: number) => Promise<boolean>
  tally: () => Promise<ClientTally>
  closeAll: () => Promise<void>
}

/**
 * One thread for the service or relay under test, the rest (up to 4) for the client: the relay is single-threaded
 * and costs about what the client does per message, so a client on as many cores as are left keeps up with it.
 * On a 2-core box that is one worker, which leaves the main thread's timers and bookkeeping off the socket loop.
 */
export function defaultClientWorkers (): number {
  return Math.max(1, Math.min(4, cpus().length - 1))
}

/** A monotonic clock every thread shares (performance.now() starts at each thread's own origin). */
function sharedClockBase (): number {
  return Number(process.hrtime.bigint()) / 1e6 - performance.now()
}

interface WorkerInit { wsBase: string, chats: BenchChat[], runTag: string, shard: number, shards: number, clockBase: number }

type Request =
  | { op: 'connect', concurrency: number }
  | { op: 'run', tag: string, total: number, buffers: RecordingBuffers, t0: number, rate: number }
  | { op: 'drain', timeoutMs: number }
  | { op: 'tally' }
  | { op: 'close' }

interface Pending { resolve: (r: Reply) => void, reject: (e: Error) => void }

type Reply =
  | { op: 'connect', ms: number, failed: number }
  | { op: 'run' }
  | { op: 'drain', ok: boolean, counts: RecordingCounts }
  | { op: 'tally', tally: ClientTally }
  | { op: 'close' }
  | { op: 'error', message: string }

/**
 * The main thread's side: chat c belongs to worker c mod N, so each worker sends every N-th message of the
 * default schedule. Every worker writes its messages' timestamps straight into the Recording's shared arrays, on the
 * main thread's clock, and sends back only counters; process CPU (what the sampler reads) covers every thread.
 */
export class WorkerLoadClient implements SweepClient {
  private readonly workers: Worker[] = []
  /** per worker, the callers waiting for its replies, oldest first (a worker answers in order) */
  private readonly waiting: Pending[][] = []
  private stepCounter = 0
  /** why a worker is gone: later requests fail at once instead of waiting for a reply that cannot come */
  private dead: Error | null = null

  constructor (readonly wsBase: string, readonly chats: BenchChat[], readonly runTag: string, readonly count: number) {
    const clockBase = sharedClockBase()
    for (let w = 0; w < count; w++) {
      const init: WorkerInit = { wsBase, chats, runTag, shard: w, shards: count, clockBase }
      const worker = new Worker(new URL(import.meta.url), { workerData: { loadWorker: init } })
      const queue: Pending[] = []
      worker.on('message', (reply: Reply) => {
        const next = queue.shift()
        if (!next) return
        if (reply.op === 'error') next.reject(new Error(`load worker ${w}: ${reply.message}`))
        else next.resolve(reply)
      })
      const fail = (err: Error): void => {
        this.dead ??= err
        for (const q of queue.splice(0)) q.reject(err)
      }
      worker.on('error', fail)
      worker.on('exit', (code) => { fail(new Error(`load worker ${w} exited with ${code}`)) })
      this.workers.push(worker)
      this.waiting.push(queue)
    }
  }

  /** Sends one request to every worker and waits for all their replies. */
  private async all<R extends Reply> (req: Request): Promise<R[]> {
    return await Promise.all(this.workers.map(async (worker, w) => await new Promise<R>((resolve, reject) => {
      if (this.dead !== null) { reject(this.dead); return }
      this.waiting[w]?.push({ resolve: resolve as (r: Reply) => void, reject })
      worker.postMessage(req)
    })))
  }

  async connectAll (concurrency: number): Promise<{ ms: number, failed: number }> {
    const t0 = performance.now()
    const per = Math.max(1, Math.ceil(concurrency / this.count))
    const replies = await this.all<Extract<Reply, { op: 'connect' }>>({ op: 'connect', concurrency: per })
    return { ms: performance.now() - t0, failed: replies.reduce((a, r) => a + r.failed, 0) }
  }

  async run (opts: ScheduleOptions): Promise<Recording> {
    if (opts.pick !== undefined || opts.onTick !== undefined) throw new Error('pick and onTick need the in-thread LoadClient')
    const rec = planRun(`${this.runTag}s${++this.stepCounter}`, opts)
    const t0 = performance.now() + START_DELAY_MS
    rec.windowStart = t0 + opts.warmupMs
    rec.windowEnd = rec.windowStart + opts.durationMs
    await this.all({ op: 'run', tag: rec.tag, total: rec.total, buffers: rec.buffers, t0, rate: opts.rate })
    return rec
  }

  /** Each worker waits for its own messages; their counters are added to rec, drained or not. */
  async drain (rec: Recording, timeoutMs: number): Promise<boolean> {
    const replies = await this.all<Extract<Reply, { op: 'drain' }>>({ op: 'drain', timeoutMs })
    for (const r of replies) rec.add(r.counts)
    return replies.every(r => r.ok)
  }

  async tally (): Promise<ClientTally> {
    const replies = await this.all<Extract<Reply, { op: 'tally' }>>({ op: 'tally' })
    const sum: ClientTally = { duplicates: 0, gaps: 0, frames: {}, errors: {} }
    for (const { tally } of replies) {
      sum.duplicates += tally.duplicates
      sum.gaps += tally.gaps
      for (const [k, n] of Object.entries(tally.frames)) sum.frames[k] = (sum.frames[k] ?? 0) + n
      for (const [k, n] of Object.entries(tally.errors)) sum.errors[k] = (sum.errors[k] ?? 0) + n
    }
    return sum
  }

  async closeAll (): Promise<void> {
    try { await this.all({ op: 'close' }) } finally {
      await Promise.all(this.workers.map(async w => await w.terminate()))
    }
  }
}

/** The worker's side: a LoadClient that owns chats c with c mod shards = shard and answers the main thread in order. */
function serveWorker (init: WorkerInit): void {
  const port = parentPort
  if (port === null) return
  const client = new LoadClient(init.wsBase, init.chats, init.runTag, c => c % init.shards === init.shard)
  client.clockOffset = sharedClockBase() - init.clockBase
  let rec: Recording | null = null
  const handle = async (req: Request): Promise<Reply> => {
    switch (req.op) {
      case 'connect': {
        const { ms, failed } = await client.connectAll(req.concurrency)
        return { op: 'connect', ms, failed }
      }
      case 'run':
        rec = new Recording(req.tag, req.total, req.buffers)
        await client.schedule(rec, req.t0, { rate: req.rate })
        return { op: 'run' }
      case 'drain': {
        if (rec === null) throw new Error('drain before run')
        const ok = await client.drain(rec, req.timeoutMs)
        return { op: 'drain', ok, counts: rec.counts() }
      }
      case 'tally':
        return { op: 'tally', tally: await client.tally() }
      case 'close':
        await client.closeAll()
        return { op: 'close' }
    }
  }
  // one request at a time per worker: the main thread waits for every reply before the next step
  let chain = Promise.resolve()
  port.on('message', (req: Request) => {
    chain = chain.then(async () => {
      try { port.postMessage(await handle(req)) } catch (err) {
        port.postMessage({ op: 'error', message: (err as Error).message } satisfies Reply)
      }
    })
  })
}

if (!isMainThread && (workerData as { loadWorker?: WorkerInit } | null)?.loadWorker) {
  serveWorker((workerData as { loadWorker: WorkerInit }).loadWorker)
}
