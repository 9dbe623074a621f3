// Migrations: applied once, recorded, and safe when two instances start at the same moment.
import t from 'tap'
import { Kysely, PGliteDialect, PostgresDialect, sql, type DatabaseConnection, type Dialect, type Driver } from 'kysely'
import pg from 'pg'
import { openDatabase } from '../../src/db/database.js'
import { Migrator } from 'kysely/migration'
import { migrateToLatest } from '../../src/db/migrate.js'
import { migrations } from '../../migrations/index.js'
import type { Database } from '../../src/db/schema.js'
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

/** The test's own connection to the config's database, failing the statements `fault` picks as the server would. */
async function faultyDatabase (t: { teardown: (fn: () => unknown) => void }, config: ReturnType<typeof testConfig>, fault: (sql: string) => Error | null): Promise<Kysely<Database>> {
  let inner: Dialect
  if (config.database.kind === 'postgres') {
    // openDatabase creates the test's schema; this pool then works in it as the service's own would.
    const handle = await openDatabase(config.database)
    await handle.close()
    const pool = new pg.Pool({ connectionString: config.database.url, max: 2, options: `-c search_path="${config.database.schema ?? 'public'}"` })
    inner = new PostgresDialect({ pool })
  } else {
    const { PGlite } = await import('@electric-sql/pglite')
    const pglite = new PGlite()
    inner = new PGliteDialect({ pglite })
  }
  const wrap = (connection: DatabaseConnection): DatabaseConnection => {
    const execute = connection.executeQuery.bind(connection)
    connection.executeQuery = async (query) => {
      const error = fault(query.sql)
      if (error !== null) throw error
      return await execute(query)
    }
    return connection
  }
  const dialect: Dialect = {
    createAdapter: () => inner.createAdapter(),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createDriver: () => {
      const driver = inner.createDriver()
      const wrapped = new WeakSet<DatabaseConnection>()
      const faulty: Driver = {
        init: async () => { await driver.init() },
        acquireConnection: async () => {
          const connection = await driver.acquireConnection()
          if (!wrapped.has(connection)) { wrapped.add(connection); wrap(connection) }
          return connection
        },
        beginTransaction: async (connection, settings) => { await driver.beginTransaction(connection, settings) },
        commitTransaction: async (connection) => { await driver.commitTransaction(connection) },
        rollbackTransaction: async (connection) => { await driver.rollbackTransaction(connection) },
        releaseConnection: async (connection) => { await driver.releaseConnection(connection) },
        destroy: async () => { await driver.destroy() }
      }
      return faulty
    }
  }
  const db = new Kysely<Database>({ dialect })
  t.teardown(async () => { await db.destroy() })
  return db
}

t.test('another tenant\'s schema, table or column gone while the migrator looks around does not fail the start', async (t) => {
  // What PostgreSQL answers when another tenant of the database drops its schema, or changes a table of its own,
  // under the Migrator's listing of every table (it looks schemas, tables and columns up by name).
  const races: Array<[string, string]> = [
    ['3F000', 'schema "test_other_tenant" does not exist'],
    ['42P01', 'relation "test_other_tenant.attachments" does not exist'],
    ['42703', 'column "uploader_key" of relation "attachments" does not exist']
  ]
  for (const [code, message] of races) {
    const config = testConfig(t)
    const schema = config.database.kind === 'postgres' ? config.database.schema : null
    let raced = 0
    const db = await faultyDatabase(t, config, (text) => {
      if (raced > 0 || !text.includes('pg_get_serial_sequence')) return null
      raced++
      return Object.assign(new Error(message), { code })
    })
    const outcome = await migrateToLatest(db, schema)
    t.equal(raced, 1, `${code}: the race happened`)
    t.same(outcome.applied.sort(), Object.keys(migrations).sort(), `${code}: the migrations were applied on the next look`)
  }
})

t.test('a migration that fails is reported, not retried', async (t) => {
  const config = testConfig(t)
  const schema = config.database.kind === 'postgres' ? config.database.schema : null
  let attempts = 0
  const db = await faultyDatabase(t, config, (text) => {
    if (!/create table "chats"/i.test(text)) return null
    attempts++
    return Object.assign(new Error('could not extend file: No space left on device'), { code: '53100' })
  })
  await t.rejects(migrateToLatest(db, schema), { name: 'MigrationError', message: /0001-chats-and-messages failed/ })
  t.equal(attempts, 1, 'tried once')
})

t.test('the inbox totals migration counts the chats already there, then keeps counting', async (t) => {
  const config = testConfig(t)
  const schema = config.database.kind === 'postgres' ? config.database.schema : null
  const handle = await openDatabase(config.database)
  t.teardown(handle.close)
  const migrator = new Migrator({
    db: handle.db,
    provider: { getMigrations: async () => migrations },
    ...(schema === null ? {} : { migrationTableSchema: schema })
  })
  const before = await migrator.migrateTo('0008-same-text-out-of-database')
  t.equal(before.error, undefined)
  // seller-a: 12 chats over 3 listings; a chat without a message, one the seller hid and one they blocked among them
  await sql`insert into chats (id, listing_id, seller_id, buyer_id, buyer_is_registered, last_seq, seller_hidden, blocked_by_seller)
    select gen_random_uuid(), 'listing-' || (g % 3), 'seller-a', 'buyer-' || g, true,
      case when g = 1 then 0 else 1 end, g = 2, g = 3
    from generate_series(1, 12) g
    union all
    -- seller-b: one listing, and its only chat blocked
    select gen_random_uuid(), 'only', 'seller-b', 'buyer-1', true, 4, false, true`.execute(handle.db)
  t.same((await migrateToLatest(handle.db, schema)).applied, ['0009-seller-inbox-counts'])

  const totals = async () => (await sql<{ seller_id: string, chats: number, listings: number, chats_with_blocked: number, listings_with_blocked: number }>`
    select seller_id, chats, listings, chats_with_blocked, listings_with_blocked from seller_inbox_counts order by seller_id`.execute(handle.db)).rows
  t.same(await totals(), [
    { seller_id: 'seller-a', chats: 9, listings: 3, chats_with_blocked: 10, listings_with_blocked: 3 },
    { seller_id: 'seller-b', chats: 0, listings: 0, chats_with_blocked: 1, listings_with_blocked: 1 }
  ], 'the chats shown before the upgrade, counted')

  // and from here on the trigger counts: seller-b's only chat unblocked, seller-a's empty chat gets its first message
  await sql`update chats set blocked_by_seller = false where seller_id = 'seller-b'`.execute(handle.db)
  await sql`update chats set last_seq = 1 where seller_id = 'seller-a' and buyer_id = 'buyer-1'`.execute(handle.db)
  await sql`delete from chats where seller_id = 'seller-a' and listing_id = 'listing-0'`.execute(handle.db)
  t.same(await totals(), [
    { seller_id: 'seller-a', chats: 7, listings: 2, chats_with_blocked: 7, listings_with_blocked: 2 },
    { seller_id: 'seller-b', chats: 1, listings: 1, chats_with_blocked: 1, listings_with_blocked: 1 }
  ], 'unblocking, a first message and deleting a listing\'s chats move the totals')
})
