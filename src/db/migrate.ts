// Owns applying the migrations in migrations/: in order, each in a transaction, under the Migrator's lock.
import { sql, type Kysely } from 'kysely'
import { DEFAULT_MIGRATION_TABLE, Migrator, type MigrationResult } from 'kysely/migration'
import { migrations } from '../../migrations/index.js'
import type { Database } from './schema.js'

export interface MigrationOutcome {
  applied: string[]
}

export class MigrationError extends Error {
  readonly foreignSchemaRace: boolean
  constructor (message: string, options?: { cause?: unknown, foreignSchemaRace?: boolean }) {
    super(message, options)
    this.name = 'MigrationError'
    this.foreignSchemaRace = options?.foreignSchemaRace ?? false
  }
}

/**
 * True when every known migration is recorded: one read instead of the Migrator's table checks, lock and transaction,
 * which were a tenth of an embedded start. Any doubt (no table yet, an error) answers false and the Migrator decides.
 */
async function alreadyLatest (db: Kysely<Database>, schema: string | null): Promise<boolean> {
  const table = schema === null ? sql.table(DEFAULT_MIGRATION_TABLE) : sql.table(`${schema}.${DEFAULT_MIGRATION_TABLE}`)
  try {
    const { rows } = await sql<{ name: string }>`select name from ${table}`.execute(db)
    // exactly the known set: a recorded migration this build does not know is the Migrator's error to report
    const applied = new Set(rows.map((row) => row.name))
    return applied.size === Object.keys(migrations).length && Object.keys(migrations).every((name) => applied.has(name))
  } catch {
    return false
  }
}

/**
 * What PostgreSQL answers when something looked up by name is gone: invalid_schema_name, undefined_table,
 * undefined_column (another tenant's schema dropped, or its table or column changed, under the listing).
 */
const GONE_UNDER_THE_LISTING = new Set(['3F000', '42P01', '42703'])
const SETUP_ATTEMPTS = 5

/**
 * The Migrator's setup introspects every table of every schema in the database (has_schema_privilege and
 * pg_get_serial_sequence by schema, table and column name), so a schema someone else drops (or a table of theirs they
 * change) meanwhile fails that read even though nothing of ours changed. That is a race with another tenant of the
 * database, not a broken migration: try again. A migration of ours that fails the same way is never retried.
 */
function isForeignSchemaRace (error: unknown, results: MigrationResult[] | undefined): boolean {
  const failedMigration = results?.some((r) => r.status === 'Error') ?? false
  const code = (error as { code?: unknown } | null)?.code
  return !failedMigration && typeof code === 'string' && GONE_UNDER_THE_LISTING.has(code)
}

export async function migrateToLatest (db: Kysely<Database>, schema: string | null): Promise<MigrationOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(db, schema)
    } catch (error) {
      if (!(error instanceof MigrationError) || !error.foreignSchemaRace || attempt >= SETUP_ATTEMPTS) throw error
    }
  }
}

async function migrateOnce (db: Kysely<Database>, schema: string | null): Promise<MigrationOutcome> {
  if (await alreadyLatest(db, schema)) return { applied: [] }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    // With several schemas in one database (tests), each keeps its own migration table.
    ...(schema === null ? {} : { migrationTableSchema: schema })
  })
  const { error, results } = await migrator.migrateToLatest()
  const applied = (results ?? []).filter((r: MigrationResult) => r.status === 'Success').map((r) => r.migrationName)
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName
    const reason = error instanceof Error ? error.message : String(error)
    throw new MigrationError(`migration ${failed ?? '(setup)'} failed: ${reason}`, { cause: error, foreignSchemaRace: isForeignSchemaRace(error, results) })
  }
  return { applied }
}
