// One query interface over node-postgres and embedded PGlite, for seeding and for the end-of-run storage checks.
import pg from 'pg'
import { CompiledQuery, type Kysely } from 'kysely'

export interface Db {
  query: <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>
  /** several statements, no parameters */
  exec: (sql: string) => Promise<void>
  close: () => Promise<void>
}

export async function openPostgres (connectionString: string): Promise<Db> {
  const client = new pg.Client({ connectionString })
  await client.connect()
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
    exec: async (sql: string) => { await client.query(sql) },
    close: async () => { await client.end() }
  }
}

/** Opens a PGlite data directory; only valid while no service process holds it. */
export async function openPglite (dataDir: string): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite')
  const db = await PGlite.create(dataDir)
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    exec: async (sql: string) => { await db.exec(sql) },
    close: async () => { await db.close() }
  }
}

/** A database URL with its database name replaced (same host, user and options). */
export function withDatabase (url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/** Creates a throwaway database next to the one in `url`; returns its URL and a drop function. */
export async function createScratchDatabase (url: string, name: string): Promise<{ url: string, drop: () => Promise<void> }> {
  const admin = await openPostgres(url)
  try {
    await admin.exec(`DROP DATABASE IF EXISTS ${name}`)
    await admin.exec(`CREATE DATABASE ${name}`)
  } finally { await admin.close() }
  return {
    url: withDatabase(url, name),
    drop: async () => {
      const a = await openPostgres(url)
      try { await a.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) } finally { await a.close() }
    }
  }
}

/** A running app's own Kysely connection, for in-process targets; closing it is the app's business. */
export function kyselyDb (k: Kysely<any>): Db {
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await k.executeQuery<T>(CompiledQuery.raw(sql, params ?? []))).rows as T[],
    exec: async (sql: string) => { await k.executeQuery(CompiledQuery.raw(sql, [])) },
    close: async () => {}
  }
}
