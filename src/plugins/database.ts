// Owns the app's database handle: opened (and migrated, unless told not to) at start, closed on app close; while an
// embedded database opened in the background is not ready yet, requests that need it get 503 service_unavailable.
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import type { Config } from '../config.js'
import { openDatabase, type DatabaseHandle } from '../db/database.js'
import { migrateToLatest } from '../db/migrate.js'
import type { Database } from '../db/schema.js'
import { AppError } from '../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    database: DatabaseHandle
    db: Kysely<Database>
    /** Settles when the database is open and migrated; rejects when that failed (the process should then exit). */
    databaseReady: Promise<void>
    /** Whether databaseReady has resolved: /ready and the request gate read it. */
    databaseIsReady: () => boolean
  }
}

export interface DatabasePluginOptions {
  config: Config
  /** Open the embedded database after buildApp returns (see OpenOptions.background); only src/server.ts asks. */
  background?: boolean
}

// Paths that reach the database; /health, /ready, /metrics, /docs and the static files answer while it opens.
const NEEDS_DATABASE = '/api/'

export default fp<DatabasePluginOptions>(async (app, { config, background = false }) => {
  const database = await openDatabase(config.database, { background })
  app.decorate('database', database)
  app.decorate('db', database.db)
  app.addHook('onClose', async () => { await database.close() })
  app.log.info({ database: database.description }, `database: ${database.description}`)
  const migrate = async (): Promise<void> => {
    await database.opened
    if (!config.migrateOnStart) return
    const schema = config.database.kind === 'postgres' ? config.database.schema : null
    const { applied } = await migrateToLatest(database.db, schema)
    if (applied.length > 0) app.log.info({ applied }, `applied ${applied.length} migration(s)`)
  }
  let ready = false
  const readiness = background ? migrate() : Promise.resolve(await migrate())
  readiness.then(() => { ready = true }, () => {})
  if (!background) ready = true
  app.decorate('databaseReady', readiness)
  app.decorate('databaseIsReady', () => ready)
  if (background) {
    // The error handler adds Retry-After to every service_unavailable, so clients back off and come back.
    app.addHook('onRequest', async (request) => {
      if (!ready && request.url.startsWith(NEEDS_DATABASE)) {
        throw new AppError('service_unavailable', 'The database is still opening; retry shortly')
      }
    })
  }
}, { name: 'database' })
