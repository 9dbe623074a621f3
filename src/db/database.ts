// Owns opening and closing the database: a pg pool for DATABASE_URL, or embedded PGlite persisted under DATA_DIR.
import { join, resolve } from 'node:path'
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely'
import type pg from 'pg'
import type { DatabaseConfig } from '../config.js'
import type { Database } from './schema.js'
import { ConnectionBreaker } from './connection-breaker.js'
import { prepareMarkedStatements } from './prepared.js'
import { createPglite } from './pglite-open.js'
import { PgliteWorkerClient } from './pglite-worker-client.js'

export interface PoolStats {
  total: number
  idle: number
  waiting: number
}

export interface DatabaseHandle {
  db: Kysely<Database>
  kind: 'postgres' | 'pglite'
  /** Safe to log: no credentials. */
  description: string
  poolStats: () => PoolStats
  close: () => Promise<void>
  /**
   * Settles when the database is open (see OpenOptions.background); already resolved when openDatabase waited for it.
   * Queries made before then wait for it.
   */
  opened: Promise<void>
}

export interface OpenOptions {
  /**
   * Return at once and open the embedded database behind the handle (PGlite only; PostgreSQL is always awaited), so
   * the process can listen and answer /health while PGlite starts.
   */
  background?: boolean
}

export class DatabaseUnavailableError extends Error {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DatabaseUnavailableError'
  }
}

// pg returns int8 (count(*), sums) as strings; ours always fit in a JS number.
const INT8_OID = 20
const parseInt8 = (value: string): number => Number(value)

function describePostgres (url: string, schema: string | null): string {
  const parsed = new URL(url)
  return `postgres ${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}${schema === null ? '' : ` (schema ${schema})`}`
}

function quoteIdentifier (name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** Defaults for DatabaseConfig's optional timeouts (see config.ts). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2000
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5000
/** The client waits this much longer than statement_timeout, so a slow statement is cancelled by the server first. */
const READ_TIMEOUT_MARGIN_MS = 1000
/** While the breaker is open, how often one background connection attempt checks whether the database is back. */
const PROBE_INTERVAL_MS = 250

// SQLSTATEs meaning "the database cannot serve this now", not "this statement is wrong": connection exceptions (08),
// too many connections, query cancelled by statement_timeout, server shutting down or starting up.
const UNAVAILABLE_SQLSTATES = new Set(['53300', '57014', '57P01', '57P02', '57P03'])
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])
// pg reports a lost or hung connection with plain Errors that carry no code.
const UNAVAILABLE_MESSAGES = [
  'Connection terminated', 'Query read timeout', 'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable', 'Client was closed and is not queryable'
]

/**
 * Whether an error means the connection itself failed (reset, refused, no answer in time), as opposed to the database
 * refusing one statement: these open the breaker. A statement cancelled by statement_timeout is only slow, not down.
 */
function isConnectionFailure (error: unknown): boolean {
  if (!isDatabaseUnavailable(error)) return false
  const code = (error as { code?: unknown }).code
  return code !== '57014' && code !== '53300'
}

/**
 * Whether an error means the database is unreachable, hung or refusing work for now (so a retry later can succeed),
 * as opposed to a bug or a bad statement. Routes answer these with 503 service_unavailable, sockets with an error
 * frame of that code (or close 1013 at setup), and neither logs them as errors.
 */
export function isDatabaseUnavailable (error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 3) return false
  if (error instanceof DatabaseUnavailableError) return true
  const { code, message, cause, errors } = error as { code?: unknown, message?: unknown, cause?: unknown, errors?: unknown }
  if (typeof code === 'string' && (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code))) return true
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((known) => message.startsWith(known))) return true
  // Node reports a refused connection to a name with several addresses as an AggregateError.
  if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true
  return cause !== undefined && isDatabaseUnavailable(cause, depth + 1)
}

/**
 * Hooked on the pool's 'connect' (before prepareMarkedStatements). A checked-out client whose connection dies emits
 * 'error'; pg-pool only listens while the client is idle, and an 'error' nobody listens to crashes the process. The
 * query that was running gets the error too, and the pool drops the client when it comes back, so ignoring it here
 * is safe. A query that times out client-side leaves pg's client waiting on the dead query forever: the connection
 * is destroyed so the pool replaces it instead of handing the hung client out again.
 */
function guardClient (client: pg.PoolClient, breaker: ConnectionBreaker): void {
  client.on('error', (error) => { if (isConnectionFailure(error)) breaker.trip() })
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const result = query(...args)
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if (isConnectionFailure(error)) breaker.trip()
        if (error instanceof Error && error.message === 'Query read timeout') {
          // pg has no public way to abort one connection; this is what pg itself does for a hung pipeline.
          (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.()
        }
      })
    }
    return result
  }
}

async function openPostgres (config: Extract<DatabaseConfig, { kind: 'postgres' }>): Promise<DatabaseHandle> {
  const description = describePostgres(config.url, config.schema)
  const statementTimeout = config.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS
  // Loaded only here: the embedded default never pays for importing the pg driver at start-up.
  const { default: driver } = await import('pg')
  const pool = new driver.Pool({
    connectionString: config.url,
    max: config.poolMax,
    // Also bounds waiting for a free connection, so a hung database cannot pile up requests behind the pool.
    connectionTimeoutMillis: config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    // The server cancels a slow statement (57014); the client gives up on a database that does not answer at all.
    ...(statementTimeout > 0 ? { statement_timeout: statementTimeout, query_timeout: statementTimeout + READ_TIMEOUT_MARGIN_MS } : {}),
    // Half-open connections (a cable pulled, a firewall dropping state) are found by the OS instead of never.
    keepAlive: true,
    // Tests isolate themselves in a schema; search_path makes every unqualified table name land there.
    options: config.schema === null ? undefined : `-c search_path=${quoteIdentifier(config.schema)}`,
    types: {
      getTypeParser: ((oid: number, format?: string) => oid === INT8_OID ? parseInt8 : driver.types.getTypeParser(oid, format as 'text')) as typeof driver.types.getTypeParser
    }
  })
  const breaker = new ConnectionBreaker({
    probeIntervalMs: PROBE_INTERVAL_MS,
    probe: async () => {
      const client = await pool.connect()
      try {
        await client.query('select 1')
        client.release()
      } catch (error) {
        client.release(error instanceof Error ? error : true)
        throw error
      }
    }
  })
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', (error) => { if (isConnectionFailure(error)) breaker.trip() })
  pool.on('connect', (client) => {
    guardClient(client, breaker)
    prepareMarkedStatements(client)
  })
  // What Kysely checks connections out of: refuses at once while the breaker is open, and opens it on a failed connect.
  const guardedPool = {
    connect: async (): Promise<pg.PoolClient> => {
      if (breaker.isOpen) throw new DatabaseUnavailableError(`${description} is unreachable; retrying in the background`)
      try {
        return await pool.connect()
      } catch (error) {
        if (isConnectionFailure(error)) breaker.trip()
        throw error
      }
    },
    end: async (): Promise<void> => {
      breaker.stop()
      await pool.end()
    },
    // Kysely reads these to cancel a query from a separate connection.
    Client: driver.Client,
    options: pool.options
  }
  try {
    const client = await pool.connect()
    try {
      if (config.schema !== null) await client.query(`create schema if not exists ${quoteIdentifier(config.schema)}`)
    } finally {
      client.release()
    }
  } catch (error) {
    await pool.end().catch(() => {})
    const reason = error instanceof Error ? error.message : String(error)
    throw new DatabaseUnavailableError(`cannot connect to ${description}: ${reason}`, { cause: error })
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: guardedPool }) })
  return {
    db,
    kind: 'postgres',
    description,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    opened: Promise.resolve(),
    close: async () => {
      breaker.stop()
      await db.destroy()
    }
  }
}

async function openPglite (config: Extract<DatabaseConfig, { kind: 'pglite' }>, options: OpenOptions): Promise<DatabaseHandle> {
  const dir = config.dataDir === null ? null : join(resolve(config.dataDir), 'pglite')
  const description = `${dir === null ? 'embedded PGlite (in memory)' : `embedded PGlite (${dir})`}${config.worker === true ? ' on a worker thread' : ''}`
  // PGLITE_WORKER: the database runs on a thread of its own, so it and the event loop can each use a core.
  const opening = config.worker === true ? PgliteWorkerClient.start({ dir }) : createPglite(dir)
  // Kysely asks for the instance on its first query, so a query made while PGlite starts waits for it.
  opening.catch(() => {})
  if (options.background !== true) await opening
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite: async () => await opening }) })
  return {
    db,
    kind: 'pglite',
    description,
    // One in-process connection; Kysely queues concurrent queries behind a mutex.
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    opened: opening.then(() => {}),
    close: async () => {
      await db.destroy()
      // Kysely closes only an instance it has asked for; one opened but never queried is closed here.
      const pglite = await opening.catch(() => null)
      if (pglite !== null && !pglite.closed) await pglite.close()
    }
  }
}

export async function openDatabase (config: DatabaseConfig, options: OpenOptions = {}): Promise<DatabaseHandle> {
  return config.kind === 'postgres' ? await openPostgres(config) : await openPglite(config, options)
}

/** One round trip, bounded in time, for the readiness probe. */
export async function pingDatabase (db: Kysely<Database>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    await Promise.race([sql`select 1`.execute(db), timeout])
  } finally {
    clearTimeout(timer)
  }
}
