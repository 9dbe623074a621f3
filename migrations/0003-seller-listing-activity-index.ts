// Adds the index the paged grouped inbox probes: a seller's visible chats of one listing, newest activity first.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  // "Is this chat its listing's newest visible one?" and "every chat of these listings" are both range scans here;
  // hidden chats never appear in the seller's inbox, so they stay out of the index.
  await db.schema.createIndex('chats_seller_listing_activity_idx').on('chats')
    .columns(['seller_id', 'listing_id', 'last_activity_at desc', 'id'])
    .where(sql.ref('seller_hidden'), '=', false)
    .execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('chats_seller_listing_activity_idx').execute()
}
