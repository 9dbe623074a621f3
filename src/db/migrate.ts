// Owns applying the migrations in migrations/: in order, each in a transaction, under the Migrator's lock.
import type { Kysely } from 'kysely'
import { Migrator, type MigrationResult } from 'kysely/migration'
import { migrations } from '../../migrations/index.js'
import type { Database } from './schema.js'

export interface MigrationOutcome {
  applied: string[]
}

export class MigrationError extends Error {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'MigrationError'
  }
}

export async function migrateToLatest (db: Kysely<Database>, schema: string | null): Promise<MigrationOutcome> {
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
    throw new MigrationError(`migration ${failed ?? '(setup)'} failed: ${reason}`, { cause: error })
  }
  return { applied }
}
