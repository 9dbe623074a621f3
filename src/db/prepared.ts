// Owns opt-in prepared statements: a statement whose text starts with a prepared marker is parsed and planned once per connection.
import { sql, type RawBuilder } from 'kysely'
import type pg from 'pg'

const PREFIX = '/* prepared:'
const SUFFIX = ' */'

/**
 * Put first in a `sql` template whose text never varies. The statement is then prepared under this name on each
 * pooled Postgres connection, and once on the embedded PGlite (pglite-prepared.ts), so the per-call parse and plan
 * (most of the database's CPU for a small write) is paid once. Select explicit columns in such statements: a
 * prepared `select *` fails on Postgres once a migration adds a column.
 */
export function preparedAs (name: string): RawBuilder<unknown> {
  return sql.raw(`${PREFIX}${name}${SUFFIX} `)
}

export function preparedName (text: string): string | null {
  if (!text.startsWith(PREFIX)) return null
  const end = text.indexOf(SUFFIX, PREFIX.length)
  return end < 0 ? null : text.slice(PREFIX.length, end)
}

/** Hooked on the pool's 'connect': Kysely calls query(text, values); marked texts go out as named statements. */
export function prepareMarkedStatements (client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (first: unknown, ...rest: unknown[]) => {
    if (typeof first === 'string' && Array.isArray(rest[0])) {
      const name = preparedName(first)
      if (name !== null) return query({ name, text: first, values: rest[0] }, ...rest.slice(1))
    }
    return query(first, ...rest)
  }
}
