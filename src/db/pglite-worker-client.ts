// Owns the main thread's side of PGlite on a worker thread (PGLITE_WORKER): a stand-in with what Kysely's PGliteDialect calls, each call a message to pglite-worker.ts.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { PGlite, PGliteQueryOptions, PGliteQueryResults, PGliteTransaction } from 'kysely'

export interface PgliteWorkerInit {
  /** null keeps the database in memory. */
  dir: string | null
}

/** Only options that survive a structured clone cross; the ones carrying functions (parsers, onNotice) cannot. */
export interface WorkerQueryOptions { rowMode?: 'array' | 'object', paramTypes?: number[] }

export type WorkerRequest =
  | { id: number, op: 'query', text: string, params: unknown[] | undefined, options: WorkerQueryOptions, tx: number | null }
  | { id: number, op: 'begin' }
  | { id: number, op: 'end', tx: number, commit: boolean }
  | { id: number, op: 'close' }

/** An error as it crosses: every own field (code, constraint, detail…) kept, since callers branch on them. */
export interface WorkerError { name: string, message: string, stack: string | undefined, fields: Record<string, unknown> }

export type WorkerReply =
  | { op: 'ready' }
  | { op: 'open-failed', error: WorkerError }
  | { op: 'done', id: number, value: unknown }
  | { op: 'failed', id: number, error: WorkerError }

/** A request before its id is assigned (Omit over each member of the union, not over the union). */
type Unsent<R> = R extends unknown ? Omit<R, 'id'> : never

interface Pending { resolve: (value: unknown) => void, reject: (error: Error) => void }

/** Rebuilt on this side so that `code` (SQLSTATE), `constraint` and the message read as they do in-thread. */
function reviveError (error: WorkerError): Error {
  const revived = new Error(error.message)
  Object.assign(revived, error.fields)
  revived.name = error.name
  if (error.stack !== undefined) revived.stack = error.stack
  return revived
}

/** Next to this module: the compiled .js (dist/src/db, or the bundle's dist/server), or the .ts source under tap. */
function workerEntry (): URL {
  for (const name of ['./pglite-worker.js', './pglite-worker.ts']) {
    const url = new URL(name, import.meta.url)
    if (existsSync(url)) return url
  }
  throw new Error(`pglite-worker.js is missing next to ${fileURLToPath(import.meta.url)}; run npm run build`)
}

/**
 * Kysely's PGlite dialect uses query, transaction, close, closed, ready and waitReady; nothing else of the instance is
 * reached from the main thread (marked statements are prepared inside the worker, where query() runs). Results and
 * errors cross by structured clone: Dates, numbers, bigints, arrays and Uint8Arrays arrive as PGlite made them.
 */
export class PgliteWorkerClient implements PGlite {
  readonly ready = true
  readonly waitReady = Promise.resolve()
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  /** Why the worker is gone: every later call fails with it at once instead of waiting for a reply that cannot come. */
  private dead: Error | null = null
  private closing: Promise<void> | null = null

  /** The thread itself, public so that its exit can be watched (tests, diagnostics). */
  private constructor (readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply) => {
      if (reply.op !== 'done' && reply.op !== 'failed') return
      const waiting = this.pending.get(reply.id)
      if (waiting === undefined) return
      this.pending.delete(reply.id)
      if (reply.op === 'done') waiting.resolve(reply.value)
      else waiting.reject(reviveError(reply.error))
    })
    worker.on('error', (error) => { this.fail(new Error(`embedded database worker failed: ${error.message}`, { cause: error })) })
    worker.on('exit', (code) => { this.fail(new Error(`embedded database worker exited with code ${code}`)) })
  }

  /** Starts the worker and settles once its PGlite is open (or failed to open, with PGlite's error). */
  static async start (init: PgliteWorkerInit): Promise<PgliteWorkerClient> {
    const worker = new Worker(workerEntry(), { workerData: init })
    let onMessage: ((reply: WorkerReply) => void) | undefined
    let onError: ((error: Error) => void) | undefined
    let onExit: ((code: number) => void) | undefined
    try {
      await new Promise<void>((resolve, reject) => {
        onMessage = (reply) => {
          if (reply.op === 'ready') resolve()
          else if (reply.op === 'open-failed') reject(reviveError(reply.error))
        }
        onError = reject
        onExit = (code) => { reject(new Error(`embedded database worker exited with code ${code} while opening`)) }
        worker.on('message', onMessage).on('error', onError).on('exit', onExit)
      })
    } catch (error) {
      await worker.terminate()
      throw error
    } finally {
      // Only these: the Worker keeps listeners of its own (they ref and unref its message port).
      worker.off('message', onMessage as () => void).off('error', onError as () => void).off('exit', onExit as () => void)
    }
    return new PgliteWorkerClient(worker)
  }

  get closed (): boolean {
    return this.closing !== null || this.dead !== null
  }

  private fail (reason: Error): void {
    this.dead ??= reason
    for (const waiting of this.pending.values()) waiting.reject(reason)
    this.pending.clear()
  }

  private async call<T> (request: Unsent<WorkerRequest>): Promise<T> {
    if (this.dead !== null) throw this.dead
    const id = this.nextId++
    return await new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.worker.postMessage({ ...request, id })
    })
  }

  async query<T> (text: string, params?: unknown[], options?: PGliteQueryOptions, tx: number | null = null): Promise<PGliteQueryResults<T>> {
    const { rowMode, paramTypes, ...rest } = options ?? {}
    const unsupported = Object.keys(rest).filter((key) => rest[key as keyof typeof rest] !== undefined)
    if (unsupported.length > 0) throw new Error(`query option ${unsupported.join(', ')} cannot cross to the PGlite worker`)
    return await this.call<PGliteQueryResults<T>>({ op: 'query', text, params, options: { rowMode, paramTypes }, tx })
  }

  /** As PGlite's: commits when the callback resolves, rolls back (and rethrows) when it throws. */
  async transaction<T> (callback: (tx: PGliteTransaction) => Promise<T>): Promise<T> {
    const txId = await this.call<number>({ op: 'begin' })
    let ended = false
    const end = async (commit: boolean): Promise<void> => {
      if (ended) throw new Error('Transaction is closed')
      ended = true
      await this.call({ op: 'end', tx: txId, commit })
    }
    let result: T
    try {
      result = await callback({
        query: async <R>(text: string, params?: unknown[], options?: PGliteQueryOptions) => {
          if (ended) throw new Error('Transaction is closed')
          return await this.query<R>(text, params, options, txId)
        },
        rollback: async () => { await end(false) }
      })
    } catch (error) {
      if (!ended) await end(false).catch(() => {})
      throw error
    }
    if (!ended) await end(true)
    return result
  }

  /** Closes PGlite inside the worker (flushing a data directory), then ends the thread. */
  async close (): Promise<void> {
    this.closing ??= (async () => {
      try {
        if (this.dead === null) await this.call({ op: 'close' })
      } finally {
        this.dead ??= new Error('PGlite is closed')
        await this.worker.terminate()
      }
    })()
    await this.closing
  }
}
