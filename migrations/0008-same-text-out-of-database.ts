// Drops text_fingerprints: the same-text limit's window now lives in memory, or in Redis when instances share it.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  // A row written per send and a read per batch cost PostgreSQL more than the send statement; ten minutes of counts
  // are lost at most on the upgrade, which only lets a spammer's next few sends through.
  await db.schema.dropTable('text_fingerprints').ifExists().execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('text_fingerprints')
    .addColumn('sender_key', 'text', (col) => col.notNull())
    .addColumn('fingerprint', 'text', (col) => col.notNull())
    .addColumn('chat_id', 'uuid', (col) => col.notNull())
    .addColumn('seen_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('text_fingerprints_pkey', ['sender_key', 'fingerprint', 'chat_id'])
    .execute()
}
