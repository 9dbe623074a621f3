// Prepared statements: a marked statement is planned once per connection on Postgres and runs unchanged on PGlite.
import t from 'tap'
import { sql } from 'kysely'
import { openDatabase } from '../../src/db/database.js'
import { preparedAs, preparedName } from '../../src/db/prepared.js'
import { testConfig } from '../fixtures/app.js'

t.test('the marker names the statement; unmarked text has no name', async (t) => {
  t.equal(preparedName('/* prepared:insert-message */ with x as (select 1) select 2'), 'insert-message')
  t.equal(preparedName('select 1 /* prepared:not-first */'), null)
  t.equal(preparedName('/* prepared:unterminated select 1'), null)
})

t.test('a marked statement runs with its parameters and, on Postgres, stays prepared on the connection', async (t) => {
  const config = testConfig(t)
  // One connection, so the catalogue query sees the session that ran the statement.
  if (config.database.kind === 'postgres') config.database.poolMax = 1
  const database = await openDatabase(config.database)
  t.teardown(database.close)

  for (const n of [1, 2, 3]) {
    const { rows } = await sql<{ doubled: number }>`${preparedAs('bench-double')} select ${n}::int * 2 as doubled`.execute(database.db)
    t.same(rows, [{ doubled: n * 2 }], `run ${n} uses its own parameter`)
  }
  await sql`select ${1}::int as plain`.execute(database.db)

  if (config.database.kind !== 'postgres') return
  const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(database.db)
  t.same(rows.map((r) => r.name), ['bench-double'], 'only the marked statement is prepared')
})
