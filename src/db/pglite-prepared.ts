// Owns running marked statements (see prepared.ts) on PGlite as named prepared statements, parsed and planned once per instance.
import { parse, protocol, type PGlite, type QueryOptions, type Results } from '@electric-sql/pglite'
import { preparedName } from './prepared.js'

const { serialize } = protocol

// The statement is gone (26000: someone ran DEALLOCATE) or a schema change altered its result columns (0A000,
// "cached plan must not change result type"). Both are raised at Bind, before anything ran (and a failed statement's
// implicit transaction is rolled back at Sync anyway), so preparing again and running once more is safe; the
// unprepared path would never have seen either.
const STALE_STATEMENT_SQLSTATES = new Set(['26000', '0A000'])

interface Statement {
  text: string
  /** What Describe reported for each parameter: picks the serializer, exactly as PGlite's own query() does. */
  paramTypes: number[]
}

type Query = <T>(query: string, params?: unknown[], options?: QueryOptions) => Promise<Results<T>>

/** What the prepared path needs of PGlite beyond its public API (see preparePgliteMarkedStatements). */
interface PgliteInternals {
  _checkReady: () => Promise<void>
  _runExclusiveTransaction: <T>(fn: () => Promise<T>) => Promise<T>
  _runExclusiveQuery: <T>(fn: () => Promise<T>) => Promise<T>
}

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/**
 * Replaces the instance's query() (what Kysely's PGlite dialect calls outside a transaction) so that a marked
 * statement is parsed once under its name, and each call after that sends Bind, Describe, Execute and Sync in one
 * exchange instead of PGlite's Parse, Describe, Bind, Describe, Execute, Sync, one call into Postgres each. Parsing
 * and planning the send statement was most of its cost for a few messages (1.4 of 2.3 ms for one, 3 of 10 for 50).
 *
 * It runs under both of PGlite's mutexes, in the order query() takes them, so nothing interleaves with the exchange
 * and it never lands inside an open transaction. PGlite's runExclusive() takes only the query mutex, which is free
 * between a transaction's statements; hence the underscored methods, which are what query() itself uses. The
 * exchange ends in Sync, so an error anywhere in it leaves the session idle and its implicit transaction rolled back,
 * exactly like a failed query(). Marked statements inside a transaction (tx.query) and calls with options the path
 * does not implement go through the ordinary query().
 */
export function preparePgliteMarkedStatements (pglite: PGlite): void {
  const internals = pglite as unknown as Partial<PgliteInternals>
  // Another PGlite version may lack them: then every statement simply stays unprepared.
  if (typeof internals._checkReady !== 'function' || typeof internals._runExclusiveTransaction !== 'function' ||
    typeof internals._runExclusiveQuery !== 'function') return
  const exclusive = internals as PgliteInternals
  const query: Query = pglite.query.bind(pglite)
  const statements = new Map<string, Statement>()

  // Close first: a Parse whose reply was lost to an error would otherwise leave the name taken.
  async function prepare (name: string, text: string): Promise<Statement> {
    statements.delete(name)
    const replies = await pglite.execProtocolStream(concat([
      serialize.close({ type: 'S', name }), serialize.parse({ name, text }), serialize.describe({ type: 'S', name }), serialize.sync()
    ]), { syncToFs: false })
    const statement = { text, paramTypes: parse.parseDescribeStatementResults(replies) }
    statements.set(name, statement)
    return statement
  }

  async function execute<T> (name: string, statement: Statement, params: unknown[], options: QueryOptions | undefined): Promise<Results<T>> {
    const values = params.map((param, i) => {
      if (param === null || param === undefined) return null
      const oid = statement.paramTypes[i] as number
      const serializer = options?.serializers?.[oid] ?? pglite.serializers[oid]
      return serializer === undefined ? String(param) : serializer(param)
    })
    const replies = await pglite.execProtocolStream(concat([
      serialize.bind({ statement: name, values }), serialize.describe({ type: 'P' }), serialize.execute(), serialize.sync()
    ]), { syncToFs: false, onNotice: options?.onNotice })
    return parse.parseResults(replies, pglite.parsers, options)[0] as Results<T>
  }

  async function runPrepared<T> (name: string, text: string, params: unknown[], options: QueryOptions | undefined): Promise<Results<T>> {
    let result: Results<T>
    try {
      const known = statements.get(name)
      if (known !== undefined && known.text !== text) {
        // What pg says for the same mistake on Postgres.
        throw new Error(`Prepared statements must be unique - '${name}' was used for a different statement`)
      }
      try {
        result = await execute<T>(name, known ?? await prepare(name, text), params, options)
      } catch (error) {
        const code = (error as { code?: unknown }).code
        if (known === undefined || typeof code !== 'string' || !STALE_STATEMENT_SQLSTATES.has(code)) throw error
        result = await execute<T>(name, await prepare(name, text), params, options)
      }
    } catch (error) {
      // As PGlite's query() reports a database error: with the statement and parameters that caused it.
      if (error instanceof protocol.messages.DatabaseError) Object.assign(error, { query: text, params, queryOptions: options })
      throw error
    }
    // What query() does after every statement outside a transaction (persists a data directory).
    await pglite.syncToFs()
    return result
  }

  const prepared: Query = async <T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> => {
    const name = preparedName(text)
    if (name === null || params === undefined || options?.blob !== undefined || options?.paramTypes !== undefined) {
      return await query<T>(text, params, options)
    }
    await exclusive._checkReady()
    return await exclusive._runExclusiveTransaction(async () =>
      await exclusive._runExclusiveQuery(async () => await runPrepared<T>(name, text, params, options)))
  }
  pglite.query = prepared as typeof pglite.query
}
