// Owns the app's database handle: opened (and migrated, unless told not to) at start, closed on app close.
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import type { Config } from '../config.js'
import { openDatabase, type DatabaseHandle } from '../db/database.js'
import { migrateToLatest } from '../db/migrate.js'
import type { Database } from '../db/schema.js'

declare module 'fastify' {
  interface FastifyInstance {
    database: DatabaseHandle
    db: Kysely<Database>
  }
}

export default fp<{ config: Config }>(async (app, { config }) => {
  const database = await openDatabase(config.database)
  app.decorate('database', database)
  app.decorate('db', database.db)
  app.addHook('onClose', async () => { await database.close() })
  app.log.info({ database: database.description }, `database: ${database.description}`)
  if (config.migrateOnStart) {
    const schema = config.database.kind === 'postgres' ? config.database.schema : null
    const { applied } = await migrateToLatest(database.db, schema)
    if (applied.length > 0) app.log.info({ applied }, `applied ${applied.length} migration(s)`)
  }
}, { name: 'database' })
