// The build's initialised PGlite template: a new data directory starts from it, an existing one is never replaced.
import { existsSync } from 'node:fs'
import t from 'tap'
import { sql } from 'kysely'
import { openDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { pgliteTemplatePath } from '../../src/db/pglite-template.js'
import { tempDir } from '../fixtures/child-server.js'

t.test('a fresh DATA_DIR from the template is migrated, keeps its data across restarts and is never reloaded', async (t) => {
  // npm run build (pretest) makes the template; without it PGlite runs initdb and this still has to hold
  t.comment(existsSync(pgliteTemplatePath()) ? `template ${pgliteTemplatePath()}` : 'no template built: initdb path')
  const dataDir = await tempDir(t, 'pglite-template')

  const first = await openDatabase({ kind: 'pglite', dataDir })
  await migrateToLatest(first.db, null)
  await sql`create table kept (v text)`.execute(first.db)
  await sql`insert into kept values ('written before the restart')`.execute(first.db)
  await first.close()

  const second = await openDatabase({ kind: 'pglite', dataDir })
  t.teardown(second.close)
  t.same((await migrateToLatest(second.db, null)).applied, [], 'the reopened directory is already migrated')
  const { rows } = await sql<{ v: string }>`select v from kept`.execute(second.db)
  t.same(rows.map((r) => r.v), ['written before the restart'], 'the existing database was opened, not replaced by the template')
})

t.test('two in-memory databases started from the template are independent', async (t) => {
  const a = await openDatabase({ kind: 'pglite', dataDir: null })
  t.teardown(a.close)
  const b = await openDatabase({ kind: 'pglite', dataDir: null })
  t.teardown(b.close)
  await sql`create table only_in_a (v int)`.execute(a.db)
  const tables = await sql<{ n: number }>`select count(*)::int as n from pg_tables where tablename = 'only_in_a'`.execute(b.db)
  t.equal(tables.rows[0]?.n, 0)
})
