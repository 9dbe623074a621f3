// Owns reading and writing chat rows: create-or-get, labels, read pointers, hiding, and the list queries behind inboxes.
import { sql, type Kysely, type RawBuilder } from 'kysely'
import type { Identity } from '../auth/identity.js'
import type { ChatRow, Database, NewChat } from '../db/schema.js'

export type Role = 'buyer' | 'seller'
export type Db = Kysely<Database>

/** The caller's side of a chat, or null when they are not part of it (registered and anonymous ids never mix). */
export function roleIn (chat: ChatRow, identity: Identity): Role | null {
  if (identity.registered && chat.seller_id === identity.userId) return 'seller'
  if (chat.buyer_id === identity.userId && chat.buyer_is_registered === identity.registered) return 'buyer'
  return null
}

export async function findChat (db: Db, chatId: string): Promise<ChatRow | undefined> {
  return await db.selectFrom('chats').selectAll().where('id', '=', chatId).executeTakeFirst()
}

export async function findChatByKey (db: Db, listingId: string, sellerId: string, buyerId: string): Promise<ChatRow | undefined> {
  return await db.selectFrom('chats').selectAll()
    .where('listing_id', '=', listingId).where('seller_id', '=', sellerId).where('buyer_id', '=', buyerId)
    .executeTakeFirst()
}

/** Inserts unless (listing, seller, buyer) exists; undefined means another request created it first. */
export async function insertChatIfAbsent (db: Db, chat: NewChat): Promise<ChatRow | undefined> {
  return await db.insertInto('chats').values(chat)
    .onConflict((oc) => oc.columns(['listing_id', 'seller_id', 'buyer_id']).doNothing())
    .returningAll()
    .executeTakeFirst()
}

/**
 * The anonymous buyer's number with this seller, assigned once. Must run inside a transaction: the advisory lock
 * serialises label assignment per seller so two new buyers never get the same number.
 */
export async function buyerLabel (tx: Db, sellerId: string, buyerId: string): Promise<number> {
  const existing = await tx.selectFrom('seller_buyer_labels').select('label')
    .where('seller_id', '=', sellerId).where('buyer_id', '=', buyerId).executeTakeFirst()
  if (existing !== undefined) return existing.label
  await sql`select pg_advisory_xact_lock(hashtext(${`buyer-label:${sellerId}`}))`.execute(tx)
  const row = await tx.insertInto('seller_buyer_labels')
    .columns(['seller_id', 'buyer_id', 'label'])
    .expression((eb) => eb.selectFrom('seller_buyer_labels')
      .select([
        eb.val(sellerId).as('seller_id'),
        eb.val(buyerId).as('buyer_id'),
        sql<number>`coalesce(max(label), 0) + 1`.as('label')
      ])
      .where('seller_id', '=', sellerId))
    .onConflict((oc) => oc.columns(['seller_id', 'buyer_id']).doUpdateSet({ label: (eb) => eb.ref('seller_buyer_labels.label') }))
    .returning('label')
    .executeTakeFirstOrThrow()
  return row.label
}

/** Moves the reader's pointer forward only, never past the last message. One row, one statement. */
export async function advanceReadPointer (db: Db, chatId: string, role: Role, upToSeq: number | null): Promise<ChatRow | undefined> {
  const column = role === 'seller' ? 'seller_last_read_seq' : 'buyer_last_read_seq'
  const target = upToSeq === null ? sql<number>`last_seq` : sql<number>`least(${upToSeq}::integer, last_seq)`
  return await db.updateTable('chats')
    .set({ [column]: sql<number>`greatest(${sql.ref(column)}, ${target})` })
    .where('id', '=', chatId)
    .returningAll()
    .executeTakeFirst()
}

export async function setHidden (db: Db, chatId: string, role: Role, hidden: boolean): Promise<ChatRow | undefined> {
  return await db.updateTable('chats')
    .set(role === 'seller' ? { seller_hidden: hidden } : { buyer_hidden: hidden })
    .where('id', '=', chatId)
    .returningAll()
    .executeTakeFirst()
}

export interface ListOptions {
  role: Role | null
  limit: number
  offset: number
}

// Both sides of "my chats": chats I sell in (registered only) and chats I buy in, each excluding the ones I hid.
function visibleChats (db: Db, identity: Identity, role: Role | null) {
  return db.selectFrom('chats').where((eb) => {
    const asSeller = eb.and([eb('seller_id', '=', identity.userId), eb('seller_hidden', '=', false)])
    const asBuyer = eb.and([
      eb('buyer_id', '=', identity.userId),
      eb('buyer_is_registered', '=', identity.registered),
      eb('buyer_hidden', '=', false)
    ])
    if (role === 'seller') return identity.registered ? asSeller : eb.lit(false)
    if (role === 'buyer') return asBuyer
    return identity.registered ? eb.or([asSeller, asBuyer]) : asBuyer
  })
}

export async function listChats (db: Db, identity: Identity, options: ListOptions): Promise<{ rows: ChatRow[], total: number }> {
  const [rows, count] = await Promise.all([
    visibleChats(db, identity, options.role).selectAll()
      .orderBy('last_activity_at', 'desc').orderBy('id')
      .limit(options.limit).offset(options.offset)
      .execute(),
    visibleChats(db, identity, options.role).select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow()
  ])
  return { rows, total: Number(count.total) }
}

/** A chat row whose timestamps arrive as ISO-8601 UTC text, ready for the wire. */
export type ChatListRow = Omit<ChatRow, 'last_message_at' | 'last_activity_at' | 'created_at' | 'updated_at'> & {
  last_message_at: string | null
  last_activity_at: string
  created_at: string
  updated_at: string
}

/**
 * A timestamptz column as the text Date#toISOString gives for the same value (milliseconds, Z), for rows headed
 * straight to the wire: the driver then need not build a Date only for it to be printed again.
 */
export const isoText = (column: string): RawBuilder<string> =>
  sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

/**
 * Every visible chat of a seller, newest activity first; the service groups them by listing. A busy seller has
 * thousands, so the timestamps come back
 * as text: parsing 4 dates per row into Date objects only to print them again was a third of the endpoint's CPU.
 */
export async function listSellerChats (db: Db, sellerId: string): Promise<ChatListRow[]> {
  return await db.selectFrom('chats')
    .select(['id', 'listing_id', 'seller_id', 'buyer_id', 'buyer_is_registered', 'buyer_label', 'last_seq',
      'seller_last_read_seq', 'buyer_last_read_seq', 'seller_hidden', 'buyer_hidden', 'last_message_text',
      'last_message_sender_id', isoText('last_message_at').as('last_message_at'),
      isoText('last_activity_at').as('last_activity_at'), isoText('created_at').as('created_at'),
      isoText('updated_at').as('updated_at')])
    .where('seller_id', '=', sellerId).where('seller_hidden', '=', false)
    // qualified: the bare name would be the text column selected above
    .orderBy('chats.last_activity_at', 'desc').orderBy('id')
    .execute()
}

/** Unread totals from the counters on the chat rows: no message rows are counted. */
export async function unreadTotals (db: Db, identity: Identity): Promise<{ total: number, chats: number }> {
  const row = await visibleChats(db, identity, null)
    .select([
      sql<number>`coalesce(sum(case when seller_id = ${identity.userId} and ${identity.registered}::boolean then last_seq - seller_last_read_seq else last_seq - buyer_last_read_seq end), 0)`.as('total'),
      sql<number>`count(*) filter (where case when seller_id = ${identity.userId} and ${identity.registered}::boolean then last_seq > seller_last_read_seq else last_seq > buyer_last_read_seq end)`.as('chats')
    ])
    .executeTakeFirstOrThrow()
  return { total: Number(row.total), chats: Number(row.chats) }
}

/** Distinct counterparts of a user, for presence in their inbox. */
export async function counterpartKeys (db: Db, identity: Identity): Promise<Array<{ userId: string, registered: boolean }>> {
  const rows = await visibleChats(db, identity, null)
    .select(['seller_id', 'buyer_id', 'buyer_is_registered'])
    .execute()
  const seen = new Map<string, { userId: string, registered: boolean }>()
  for (const row of rows) {
    const counterpart = identity.registered && row.seller_id === identity.userId
      ? { userId: row.buyer_id, registered: row.buyer_is_registered }
      : { userId: row.seller_id, registered: true }
    seen.set(`${counterpart.registered ? 'u' : 'a'}:${counterpart.userId}`, counterpart)
  }
  return [...seen.values()]
}
