// Records claimed guest identities, keys client_message_id per sender kind, and adds display names and listing details to chats.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  // A claimed guest token is refused everywhere from then on; this table is the durable truth every instance checks.
  await db.schema.createTable('claimed_guests')
    .addColumn('guest_id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('claimed_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()

  // The old key ignored sender_is_registered: a guest uuid equal to a registered id shared one idempotency key.
  // Same name, so the send path's unique-violation handling keeps recognising it.
  await db.schema.dropIndex('messages_client_message_id_key').execute()
  await db.schema.createIndex('messages_client_message_id_key').on('messages')
    .columns(['chat_id', 'sender_id', 'sender_is_registered', 'client_message_id']).unique()
    .where(sql.ref('client_message_id'), 'is not', null).execute()

  await db.schema.alterTable('chats')
    .addColumn('buyer_display_name', 'text')
    .addColumn('seller_display_name', 'text')
    .addColumn('listing_title', 'text')
    .addColumn('listing_price', 'text')
    .addColumn('listing_currency', 'text')
    .addColumn('listing_image_url', 'text')
    .addColumn('listing_url', 'text')
    .addColumn('listing_fetched_at', 'timestamptz')
    .execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('chats')
    .dropColumn('buyer_display_name').dropColumn('seller_display_name').dropColumn('listing_title')
    .dropColumn('listing_price').dropColumn('listing_currency').dropColumn('listing_image_url').dropColumn('listing_url')
    .dropColumn('listing_fetched_at')
    .execute()
  await db.schema.dropIndex('messages_client_message_id_key').execute()
  await db.schema.createIndex('messages_client_message_id_key').on('messages')
    .columns(['chat_id', 'sender_id', 'client_message_id']).unique()
    .where(sql.ref('client_message_id'), 'is not', null).execute()
  await db.schema.dropTable('claimed_guests').execute()
}
