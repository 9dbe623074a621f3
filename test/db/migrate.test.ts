// Migrations: applied once, recorded, and safe when two instances start at the same moment.
import t from 'tap'
import { sql } from 'kysely'
import { openDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { migrations } from '../../migrations/index.js'
import { testConfig } from '../fixtures/app.js'

t.test('two instances migrating at once apply each migration exactly once', async (t) => {
  const config = testConfig(t)
  const schema = config.database.kind === 'postgres' ? config.database.schema : null
  const first = await openDatabase(config.database)
  t.teardown(first.close)
  // Postgres: a second pool, as a second instance would have. PGlite is one process's own database, so the
  // "second instance" is a second migrator on the same handle, racing the first.
  const second = config.database.kind === 'postgres' ? await openDatabase(config.database) : first
  if (second !== first) t.teardown(second.close)

  const outcomes = await Promise.all([migrateToLatest(first.db, schema), migrateToLatest(second.db, schema)])
  const applied = outcomes.flatMap((o) => o.applied)
  t.same(applied.sort(), Object.keys(migrations).sort(), 'every migration applied by exactly one of them')

  const again = await migrateToLatest(first.db, schema)
  t.same(again.applied, [], 'a restart applies nothing')

  const recorded = await sql<{ name: string }>`select name from ${sql.table(schema === null ? 'kysely_migration' : `${schema}.kysely_migration`)} order by name`.execute(first.db)
  t.same(recorded.rows.map((r) => r.name), Object.keys(migrations).sort())
  const tables = await first.db.introspection.getTables()
  t.ok(['chats', 'messages', 'seller_buyer_labels'].every((name) => tables.some((table) => table.name === name)), 'tables exist')
})
