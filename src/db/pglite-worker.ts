// Owns the embedded database's worker thread (PGLITE_WORKER): the PGlite instance lives here and answers pglite-worker-client.ts's messages.
import { parentPort, workerData } from 'node:worker_threads'
import type { Results, Transaction } from '@electric-sql/pglite'
import { createPglite } from './pglite-open.js'
import type { PgliteWorkerInit, WorkerError, WorkerReply, WorkerRequest } from './pglite-worker-client.js'

interface OpenTransaction {
  tx: Transaction
  /** Lets PGlite's transaction() callback return: after a rollback, or to commit. */
  finish: () => void
  done: Promise<void>
}

function describeError (error: unknown): WorkerError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), stack: undefined, fields: {} }
  const fields: Record<string, unknown> = {}
  // queryOptions may hold functions, which cannot be cloned; the caller knows its own options anyway.
  for (const [key, value] of Object.entries(error)) {
    if (key !== 'queryOptions' && typeof value !== 'function') fields[key] = value
  }
  return { name: error.name, message: error.message, stack: error.stack, fields }
}

async function serve (port: NonNullable<typeof parentPort>, init: PgliteWorkerInit): Promise<void> {
  let pglite: Awaited<ReturnType<typeof createPglite>>
  try {
    pglite = await createPglite(init.dir)
  } catch (error) {
    port.postMessage({ op: 'open-failed', error: describeError(error) } satisfies WorkerReply)
    return
  }
  const transactions = new Map<number, OpenTransaction>()
  let nextTx = 1

  /**
   * Runs PGlite's own transaction(), holding its transaction mutex (as Kysely's in-thread dialect does) until the
   * main thread says how it ends; its statements arrive meanwhile as queries tagged with the transaction's id.
   */
  async function begin (): Promise<number> {
    const id = nextTx++
    let finish!: () => void
    const finished = new Promise<void>((resolve) => { finish = resolve })
    let begun!: (tx: Transaction) => void
    const started = new Promise<Transaction>((resolve) => { begun = resolve })
    const done = pglite.transaction(async (tx) => {
      begun(tx)
      await finished
    })
    const endedEarly = done.then(() => { throw new Error('the transaction ended before it began') })
    endedEarly.catch(() => {})
    const tx = await Promise.race([started, endedEarly])
    transactions.set(id, { tx, finish, done })
    return id
  }

  async function end (id: number, commit: boolean): Promise<void> {
    const open = transactions.get(id)
    if (open === undefined) throw new Error('Transaction is closed')
    transactions.delete(id)
    try {
      // A rollback leaves the transaction closed, so PGlite's transaction() returns without COMMIT.
      if (!commit) await open.tx.rollback()
    } finally {
      open.finish()
    }
    await open.done
  }

  async function handle (request: WorkerRequest): Promise<unknown> {
    switch (request.op) {
      case 'query': {
        const target = request.tx === null ? pglite : transactions.get(request.tx)?.tx
        if (target === undefined) throw new Error('Transaction is closed')
        const { blob: _blob, ...result }: Results = await target.query(request.text, request.params, request.options)
        return result
      }
      case 'begin': return await begin()
      case 'end': return await end(request.tx, request.commit)
      case 'close': return await pglite.close()
    }
  }

  port.on('message', (request: WorkerRequest) => {
    handle(request).then((value) => {
      try {
        port.postMessage({ op: 'done', id: request.id, value } satisfies WorkerReply)
      } catch (error) {
        port.postMessage({ op: 'failed', id: request.id, error: describeError(error) } satisfies WorkerReply)
      }
    }, (error: unknown) => {
      port.postMessage({ op: 'failed', id: request.id, error: describeError(error) } satisfies WorkerReply)
    })
  })
  port.postMessage({ op: 'ready' } satisfies WorkerReply)
}

if (parentPort === null) throw new Error('pglite-worker runs as a worker thread (see pglite-worker-client.ts)')
await serve(parentPort, workerData as PgliteWorkerInit)
