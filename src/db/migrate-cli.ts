// Owns `npm run migrate`: applies pending migrations to the configured database and exits.
import { parseConfig } from '../config.js'
import { openDatabase } from './database.js'
import { migrateToLatest } from './migrate.js'

const parsed = parseConfig(process.env)
if (!parsed.ok) {
  for (const line of parsed.errors) process.stderr.write(`config error: ${line}\n`)
  process.exit(1)
}
try {
  // A migration may legitimately run longer than the service's statement_timeout (an index on a big table).
  const config = parsed.config.database
  const database = await openDatabase(config.kind === 'postgres' ? { ...config, statementTimeoutMs: 0 } : config)
  try {
    const { applied } = await migrateToLatest(database.db, null)
    process.stdout.write(applied.length === 0 ? `${database.description}: up to date\n` : `${database.description}: applied ${applied.join(', ')}\n`)
  } finally {
    await database.close()
  }
} catch (error) {
  process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
}
