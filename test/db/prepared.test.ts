// Prepared statements: a marked statement is planned once per connection (each pooled one on Postgres, the one PGlite instance) and answers as if unprepared.
import t, { type Test } from 'tap'
import { sql, type Kysely } from 'kysely'
import { openDatabase } from '../../src/db/database.js'
import type { Database } from '../../src/db/schema.js'
import { preparedAs, preparedName } from '../../src/db/prepared.js'
import { testConfig } from '../fixtures/app.js'

t.test('the marker names the statement; unmarked text has no name', async (t) => {
  t.equal(preparedName('/* prepared:insert-message */ with x as (select 1) select 2'), 'insert-message')
  t.equal(preparedName('select 1 /* prepared:not-first */'), null)
  t.equal(preparedName('/* prepared:unterminated select 1'), null)
})

/** A database on one connection, so catalogue queries see the session that ran the statements. */
async function oneConnection (t: Test): Promise<{ db: Kysely<Database>, kind: 'postgres' | 'pglite' }> {
  const config = testConfig(t)
  if (config.database.kind === 'postgres') config.database.poolMax = 1
  const database = await openDatabase(config.database)
  t.teardown(database.close)
  return { db: database.db, kind: database.kind }
}

async function preparedNames (db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(db)
  return rows.map((r) => r.name)
}

t.test('a marked statement runs with its parameters and stays prepared on the connection', async (t) => {
  const { db } = await oneConnection(t)
  for (const n of [1, 2, 3]) {
    const { rows } = await sql<{ doubled: number }>`${preparedAs('bench-double')} select ${n}::int * 2 as doubled`.execute(db)
    t.same(rows, [{ doubled: n * 2 }], `run ${n} uses its own parameter`)
  }
  await sql`select ${1}::int as plain`.execute(db)
  t.same(await preparedNames(db), ['bench-double'], 'only the marked statement is prepared')
})

t.test('a marked statement returns exactly what the same statement returns unprepared', async (t) => {
  const { db } = await oneConnection(t)
  const ids = ['6f1c1f5e-3c3a-4b7e-9a43-0d8f2b6a9c01', 'b2d6a0c4-8e1f-4c39-a5d7-31f0e9c4b702']
  const run = async (marker: ReturnType<typeof preparedAs> | null, flag: boolean | null): Promise<unknown[]> => {
    const { rows } = await sql`${marker ?? sql``} select ${ids}::uuid[] as ids, ${['a,b', 'c"d', null]}::text[] as texts,
      ${flag}::boolean as flag, ${12345678901}::int8 as big, ${1.5}::float8 as ratio, ${'2026-01-02T03:04:05.678Z'}::timestamptz as at,
      ${'ünïcode ✓'}::text as text, n from generate_series(1, ${3}::int) as n`.execute(db)
    return rows
  }
  for (const flag of [true, false, null]) {
    const plain = await run(null, flag)
    t.strictSame(await run(preparedAs('same-rows'), flag), plain, `flag ${String(flag)}: same rows, same types`)
    t.equal(plain.length, 3)
  }
})

t.test('a marked statement that fails fails alone and leaves the connection usable', async (t) => {
  const { db } = await oneConnection(t)
  const divide = async (by: unknown): Promise<unknown> =>
    (await sql<{ q: number }>`${preparedAs('divide')} select 12 / ${by}::int as q`.execute(db)).rows[0]?.q
  t.equal(await divide(4), 3)
  // Fails while executing (22012), then at Bind, before anything runs (22P02).
  await t.rejects(divide(0), { code: '22012' }, 'division by zero reaches the caller with its SQLSTATE')
  t.equal(await divide(6), 2, 'the same statement runs again at once')
  await t.rejects(divide('twelve'), { code: '22P02' }, 'a parameter the database cannot read fails the call')
  t.equal(await divide(3), 4)
  // Nothing of a failed statement is left behind: no open transaction, no row.
  await sql`create table prepared_probe (n int primary key)`.execute(db)
  const insert = async (n: number, executor: Kysely<Database> = db): Promise<void> => {
    await sql`${preparedAs('probe-insert')} insert into prepared_probe values (${n}::int)`.execute(executor)
  }
  await insert(1)
  await t.rejects(insert(1), { code: '23505' })
  // Inside a transaction a marked statement runs in it (unprepared, on PGlite).
  await db.transaction().execute(async (tx) => {
    await insert(2, tx)
    await insert(3, tx)
  })
  await t.rejects(db.transaction().execute(async (tx) => {
    await insert(4, tx)
    throw new Error('changed my mind')
  }), { message: 'changed my mind' })
  await insert(5)
  const { rows } = await sql<{ n: number }>`select n from prepared_probe order by n`.execute(db)
  t.same(rows.map((r) => r.n), [1, 2, 3, 5], 'committed once each; the rolled-back row is gone')
  t.same(await preparedNames(db), ['divide', 'probe-insert'], 'still prepared after their failures')
})

t.test('on PGlite a statement dropped or outdated by a schema change is prepared again', async (t) => {
  const { db, kind } = await oneConnection(t)
  if (kind !== 'pglite') return
  await sql`create table prepared_shape (id int primary key, v int)`.execute(db)
  await sql`insert into prepared_shape values (1, 7)`.execute(db)
  const read = async (): Promise<unknown> => (await sql<{ v: unknown }>`${preparedAs('shape')} select v from prepared_shape where id = ${1}::int`.execute(db)).rows[0]?.v
  t.equal(await read(), 7)
  await sql`alter table prepared_shape alter column v type text`.execute(db)
  t.equal(await read(), '7', 'the new column type, not "cached plan must not change result type"')
  await sql`deallocate all`.execute(db)
  t.equal(await read(), '7', 'not "prepared statement does not exist"')
  await t.rejects(sql`${preparedAs('shape')} select 1`.execute(db), /used for a different statement/, 'one name, one text')
})
