// Makes whether the buyer is registered part of a chat's identity, so a registered id equal to an anonymous uuid is someone else.
import type { Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  // Existing rows cannot conflict: the old key was stricter than the new one.
  await db.schema.alterTable('chats').dropConstraint('chats_listing_seller_buyer_key').execute()
  await db.schema.alterTable('chats')
    .addUniqueConstraint('chats_listing_seller_buyer_kind_key', ['listing_id', 'seller_id', 'buyer_id', 'buyer_is_registered'])
    .execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  // Fails if both kinds of buyer now hold a chat under one id: those chats must be merged or removed by hand first.
  await db.schema.alterTable('chats').dropConstraint('chats_listing_seller_buyer_kind_key').execute()
  await db.schema.alterTable('chats')
    .addUniqueConstraint('chats_listing_seller_buyer_key', ['listing_id', 'seller_id', 'buyer_id'])
    .execute()
}
