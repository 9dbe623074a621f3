// Owns opening and closing the database: a pg pool for DATABASE_URL, or embedded PGlite persisted under DATA_DIR.
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import type { DatabaseConfig } from '../config.js'
import type { Database } from './schema.js'
import { prepareMarkedStatements } from './prepared.js'

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

async function openPostgres (config: Extract<DatabaseConfig, { kind: 'postgres' }>): Promise<DatabaseHandle> {
  const description = describePostgres(config.url, config.schema)
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolMax,
    connectionTimeoutMillis: 5000,
    // Tests isolate themselves in a schema; search_path makes every unqualified table name land there.
    options: config.schema === null ? undefined : `-c search_path=${quoteIdentifier(config.schema)}`,
    types: {
      getTypeParser: ((oid: number, format?: string) => oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser
    }
  })
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {})
  pool.on('connect', prepareMarkedStatements)
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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return {
    db,
    kind: 'postgres',
    description,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: async () => { await db.destroy() }
  }
}

async function openPglite (config: Extract<DatabaseConfig, { kind: 'pglite' }>): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite')
  let pglite
  let description = 'embedded PGlite (in memory)'
  if (config.dataDir === null) {
    pglite = await PGlite.create()
  } else {
    const dir = join(resolve(config.dataDir), 'pglite')
    await mkdir(dir, { recursive: true })
    pglite = await PGlite.create(dir)
    description = `embedded PGlite (${dir})`
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) })
  return {
    db,
    kind: 'pglite',
    description,
    // One in-process connection; Kysely queues concurrent queries behind a mutex.
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    close: async () => { await db.destroy() }
  }
}

export async function openDatabase (config: DatabaseConfig): Promise<DatabaseHandle> {
  return config.kind === 'postgres' ? await openPostgres(config) : await openPglite(config)
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
