// Creates chats (with read pointers and the last-message preview kept on the row), messages and anonymous buyer labels.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('chats')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('listing_id', 'text', (col) => col.notNull())
    .addColumn('seller_id', 'text', (col) => col.notNull())
    .addColumn('buyer_id', 'text', (col) => col.notNull())
    .addColumn('buyer_is_registered', 'boolean', (col) => col.notNull())
    .addColumn('buyer_label', 'integer')
    .addColumn('last_seq', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('seller_last_read_seq', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('buyer_last_read_seq', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('seller_hidden', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('buyer_hidden', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('last_message_text', 'text')
    .addColumn('last_message_sender_id', 'text')
    .addColumn('last_message_at', 'timestamptz')
    .addColumn('last_activity_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('chats_listing_seller_buyer_key', ['listing_id', 'seller_id', 'buyer_id'])
    .execute()
  // Inbox and "my chats" read a user's chats newest-activity first; these make that an index scan.
  await db.schema.createIndex('chats_seller_activity_idx').on('chats')
    .columns(['seller_id', 'last_activity_at desc']).execute()
  await db.schema.createIndex('chats_buyer_activity_idx').on('chats')
    .columns(['buyer_id', 'last_activity_at desc']).execute()

  await db.schema.createTable('messages')
    .addColumn('chat_id', 'uuid', (col) => col.notNull().references('chats.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (col) => col.notNull())
    .addColumn('id', 'uuid', (col) => col.notNull().unique())
    .addColumn('sender_id', 'text', (col) => col.notNull())
    .addColumn('sender_is_registered', 'boolean', (col) => col.notNull())
    .addColumn('message_text', 'text', (col) => col.notNull())
    .addColumn('client_message_id', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // (chat_id, seq) doubles as the history index: pages by seq are range scans.
    .addPrimaryKeyConstraint('messages_pkey', ['chat_id', 'seq'])
    .execute()
  // A retried send carries the same client_message_id; this makes the retry find, not duplicate, the message.
  await db.schema.createIndex('messages_client_message_id_key').on('messages')
    .columns(['chat_id', 'sender_id', 'client_message_id']).unique()
    .where(sql.ref('client_message_id'), 'is not', null).execute()

  await db.schema.createTable('seller_buyer_labels')
    .addColumn('seller_id', 'text', (col) => col.notNull())
    .addColumn('buyer_id', 'text', (col) => col.notNull())
    .addColumn('label', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('seller_buyer_labels_pkey', ['seller_id', 'buyer_id'])
    .addUniqueConstraint('seller_buyer_labels_label_key', ['seller_id', 'label'])
    .execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('seller_buyer_labels').execute()
  await db.schema.dropTable('messages').execute()
  await db.schema.dropTable('chats').execute()
}
