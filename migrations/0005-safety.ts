// Adds what safety needs: blocks between two people (mirrored on their chats), message flags, the same-text spam window, reports, bans and the moderators' read log.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  // The truth: who blocked whom, by identity key (a block covers every chat between the two people).
  await db.schema.createTable('blocks')
    .addColumn('blocker_key', 'text', (col) => col.notNull())
    .addColumn('blocked_key', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('blocks_pkey', ['blocker_key', 'blocked_key'])
    .execute()
  // Mirrored on each chat of the pair, so summaries, unread counts, sorting and the one-statement send see it without a join.
  await db.schema.alterTable('chats')
    .addColumn('blocked_by_seller', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('blocked_by_buyer', 'boolean', (col) => col.notNull().defaultTo(false))
    .execute()
  // Guests' new chats per hour are counted from here.
  await db.schema.createIndex('chats_buyer_created_idx').on('chats')
    .columns(['buyer_id', 'buyer_is_registered', 'created_at']).execute()

  await db.schema.alterTable('messages')
    .addColumn('flags', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'::text[]`))
    .execute()

  // One row per (sender, normalized text, chat) seen in the last minutes: "same text into many chats" across instances.
  await db.schema.createTable('text_fingerprints')
    .addColumn('sender_key', 'text', (col) => col.notNull())
    .addColumn('fingerprint', 'text', (col) => col.notNull())
    .addColumn('chat_id', 'uuid', (col) => col.notNull())
    .addColumn('seen_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('text_fingerprints_pkey', ['sender_key', 'fingerprint', 'chat_id'])
    .execute()

  await db.schema.createTable('reports')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('chat_id', 'uuid', (col) => col.notNull().references('chats.id').onDelete('cascade'))
    .addColumn('reporter_key', 'text', (col) => col.notNull())
    .addColumn('reported_key', 'text', (col) => col.notNull())
    .addColumn('reason', 'text', (col) => col.notNull())
    .addColumn('seq', 'integer')
    .addColumn('comment', 'text')
    .addColumn('status', 'text', (col) => col.notNull().defaultTo('open'))
    .addColumn('resolution', 'text')
    .addColumn('resolved_by', 'text')
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  // One open report per reporter per chat: a repeat updates it.
  await db.schema.createIndex('reports_open_per_reporter_key').on('reports')
    .columns(['chat_id', 'reporter_key']).unique()
    .where(sql.ref('status'), '=', 'open').execute()
  await db.schema.createIndex('reports_status_created_idx').on('reports')
    .columns(['status', 'created_at desc', 'id']).execute()

  await db.schema.createTable('bans')
    .addColumn('user_key', 'text', (col) => col.primaryKey())
    .addColumn('reason', 'text')
    .addColumn('banned_by', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema.createTable('moderation_reads')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('moderator_id', 'text', (col) => col.notNull())
    .addColumn('chat_id', 'uuid', (col) => col.notNull())
    .addColumn('what', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('moderation_reads').execute()
  await db.schema.dropTable('bans').execute()
  await db.schema.dropTable('reports').execute()
  await db.schema.dropTable('text_fingerprints').execute()
  await db.schema.alterTable('messages').dropColumn('flags').execute()
  await db.schema.dropIndex('chats_buyer_created_idx').execute()
  await db.schema.alterTable('chats').dropColumn('blocked_by_seller').dropColumn('blocked_by_buyer').execute()
  await db.schema.dropTable('blocks').execute()
}
