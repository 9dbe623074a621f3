// Owns reading and writing chat rows: create-or-get, labels, read pointers, hiding, and the list queries behind inboxes.
import { sql, type Kysely, type RawBuilder } from 'kysely'
import { identityKey, type Identity } from '../auth/identity.js'
import type { ChatRow, Database, NewChat } from '../db/schema.js'
import { counterpartOf, roleIn, type Role } from './participants.js'

export type { Role }
export type Db = Kysely<Database>

export async function findChat (db: Db, chatId: string): Promise<ChatRow | undefined> {
  return await db.selectFrom('chats').selectAll().where('id', '=', chatId).executeTakeFirst()
}

/** The buyer's chat with this seller on this listing; a registered id and an equal anonymous uuid are different buyers. */
export async function findChatByKey (db: Db, listingId: string, sellerId: string, buyer: Identity): Promise<ChatRow | undefined> {
  return await db.selectFrom('chats').selectAll()
    .where('listing_id', '=', listingId).where('seller_id', '=', sellerId)
    .where('buyer_id', '=', buyer.userId).where('buyer_is_registered', '=', buyer.registered)
    .executeTakeFirst()
}

/** Inserts unless (listing, seller, buyer, buyer kind) exists; undefined means another request created it first. */
export async function insertChatIfAbsent (db: Db, chat: NewChat): Promise<ChatRow | undefined> {
  return await db.insertInto('chats').values(chat)
    .onConflict((oc) => oc.columns(['listing_id', 'seller_id', 'buyer_id', 'buyer_is_registered']).doNothing())
    .returningAll()
    .executeTakeFirst()
}

/**
 * The anonymous buyer's number with this seller, assigned once. Only anonymous buyers get one, so every buyer_id in
 * seller_buyer_labels is an anonymous uuid and a registered id can never pick up (or take) someone's label. Must run inside a transaction: the advisory lock
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

// Both sides of "my chats": chats I sell in (registered only) and chats I buy in, each excluding the ones I hid. A
// seller sees a chat only once it has a message: a click on "Chat" closed without typing leaves no row in the inbox.
function visibleChats (db: Db, identity: Identity, role: Role | null) {
  return db.selectFrom('chats').where((eb) => {
    const asSeller = eb.and([eb('seller_id', '=', identity.userId), eb('seller_hidden', '=', false), eb('last_seq', '>', 0)])
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

/** True for a chat the caller blocked the other person in (their side's flag). */
const blockedByCaller = (identity: Identity): RawBuilder<boolean> =>
  sql<boolean>`case when seller_id = ${identity.userId} and ${identity.registered}::boolean then blocked_by_seller else blocked_by_buyer end`

export async function listChats (db: Db, identity: Identity, options: ListOptions): Promise<{ rows: ChatRow[], total: number }> {
  const [rows, count] = await Promise.all([
    // Chats the caller blocked someone in go last: still readable, out of the way.
    visibleChats(db, identity, options.role).selectAll()
      .orderBy(blockedByCaller(identity)).orderBy('last_activity_at', 'desc').orderBy('id')
      .limit(options.limit).offset(options.offset)
      .execute(),
    visibleChats(db, identity, options.role).select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow()
  ])
  return { rows, total: Number(count.total) }
}

/** A chat row whose timestamps arrive as ISO-8601 UTC text, ready for the wire. */
export type ChatListRow = Omit<ChatRow, 'last_message_at' | 'last_activity_at' | 'created_at' | 'updated_at' | 'listing_fetched_at'> & {
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

/** Unread totals from the counters on the chat rows: no message rows are counted, nor chats the caller blocked. */
export async function unreadTotals (db: Db, identity: Identity): Promise<{ total: number, chats: number }> {
  const row = await visibleChats(db, identity, null)
    .where(sql<boolean>`not ${blockedByCaller(identity)}`)
    .select([
      sql<number>`coalesce(sum(case when seller_id = ${identity.userId} and ${identity.registered}::boolean then last_seq - seller_last_read_seq else last_seq - buyer_last_read_seq end), 0)`.as('total'),
      sql<number>`count(*) filter (where case when seller_id = ${identity.userId} and ${identity.registered}::boolean then last_seq > seller_last_read_seq else last_seq > buyer_last_read_seq end)`.as('chats')
    ])
    .executeTakeFirstOrThrow()
  return { total: Number(row.total), chats: Number(row.chats) }
}

/** Distinct counterparts of a user, for presence in their inbox. */
export async function counterpartKeys (db: Db, identity: Identity): Promise<Identity[]> {
  const rows = await visibleChats(db, identity, null)
    .select(['seller_id', 'buyer_id', 'buyer_is_registered'])
    .execute()
  const seen = new Map<string, Identity>()
  for (const row of rows) {
    // visibleChats only returns chats the caller is in, so a row that is not theirs to sell in is theirs to buy in.
    const counterpart = counterpartOf(row, roleIn(row, identity) ?? 'buyer')
    seen.set(identityKey(counterpart), counterpart)
  }
  return [...seen.values()]
}

/** Where a page of the grouped inbox ends: the head chat (newest activity, then smallest id) of its last listing. */
export interface GroupCursor {
  /** the head chat's last_activity_at, ISO 8601 UTC with microseconds (the column's full precision) */
  activityAt: string
  chatId: string
}

export interface GroupedInboxJson {
  /** the groups as a JSON array, exactly as JSON.stringify would print them */
  groups: string
  /** where the next page starts, null on the last page (and for the full answer) */
  next: GroupCursor | null
  totalChats: number
  totalListings: number
}

/**
 * One listing group per row, already as JSON text: Postgres prints the chat summaries (row_to_json is compact and escapes
 * like JSON.stringify), so the service neither decodes 17 columns per chat nor builds and stringifies 34,000 strings.
 * Groups are ordered by their head chat - the newest activity, ties by id - exactly like the chats of the old
 * answer, whose first chat per listing decided the group's place. `listings` names the chats to group.
 */
const groupsJson = (sellerId: string, listings: RawBuilder<unknown> | null, filter: InboxFilter): RawBuilder<unknown> => sql`
  select c.listing_id, c.last_activity_at, c.id,
    case when c.blocked_by_seller then 0 else greatest(c.last_seq - c.seller_last_read_seq, 0) end as unread,
    coalesce(${isoText('c.last_message_at')}, ${isoText('c.created_at')}) as group_time,
    (select row_to_json(s)::text from (select c.id, c.listing_id, c.seller_id, c.buyer_id, c.buyer_is_registered,
      'Buyer ' || c.buyer_label as buyer_label, 'seller'::text as role, c.buyer_id as counterpart_id, c.last_seq,
      c.seller_last_read_seq as my_last_read_seq, c.buyer_last_read_seq as other_last_read_seq,
      greatest(c.last_seq - c.seller_last_read_seq, 0) as unread_count, c.last_message_text as last_message,
      c.last_message_sender_id, ${isoText('c.last_message_at')} as last_message_time,
      ${isoText('c.created_at')} as created_at, ${isoText('c.updated_at')} as updated_at,
      c.buyer_label as buyer_number, c.buyer_display_name, c.seller_display_name,
      (select row_to_json(l) from (select c.listing_title as title, c.listing_price as price,
        c.listing_currency as currency, c.listing_image_url as image_url, c.listing_url as url) l) as listing,
      c.blocked_by_seller as blocked_by_me, c.blocked_by_buyer as blocked_by_other) s) as summary
  from chats c
  where c.seller_id = ${sellerId} and ${sellerSees(sql`c`, filter)} ${listings === null ? sql`` : sql`and c.listing_id in (${listings})`}`

/** Which of a seller's chats the grouped inbox shows: the blocked ones only when asked (includeBlocked). */
export interface InboxFilter { includeBlocked: boolean }

// Hidden chats and chats without a message never show in the seller's inbox; blocked ones only on request.
const sellerSees = (alias: RawBuilder<unknown>, filter: InboxFilter): RawBuilder<boolean> =>
  sql<boolean>`not ${alias}.seller_hidden and ${alias}.last_seq > 0 ${filter.includeBlocked ? sql`` : sql`and not ${alias}.blocked_by_seller`}`

const groupedSelect = (rows: RawBuilder<unknown>): RawBuilder<unknown> => sql`
  select '{"listing_id":' || to_json(listing_id)::text || ',"unread_count":' || sum(unread)
      || ',"last_message_time":' || to_json((array_agg(group_time order by last_activity_at desc, id))[1])::text
      || ',"chats":[' || string_agg(summary, ',' order by last_activity_at desc, id) || ']}' as json,
    max(last_activity_at) as activity_at, (array_agg(id order by last_activity_at desc, id))[1] as head_id
  from (${rows}) r group by listing_id`

const isoMicros = (column: RawBuilder<unknown>): RawBuilder<string> =>
  sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

/** Every visible chat of a seller grouped by listing, as the JSON the grouped inbox answers without paging. */
export async function sellerGroupsJson (db: Db, sellerId: string, filter: InboxFilter = { includeBlocked: false }): Promise<string> {
  const result = await sql<{ body: string }>`
    select coalesce('[' || string_agg(json, ',' order by activity_at desc, head_id) || ']', '[]') as body
    from (${groupedSelect(groupsJson(sellerId, null, filter))}) g`.execute(db)
  return result.rows[0]?.body ?? '[]'
}

/**
 * A page of `limit` listing groups after `after`. A listing's place is its head chat (newest activity, ties by id); the
 * page takes the heads below the cursor, so a listing never spans two pages, and one whose activity moved above the
 * cursor after it was shown is not shown again (the inbox socket reports that change). The heads come from the
 * seller's activity index walked down from the cursor, each checked to be its listing's newest visible chat.
 */
export async function sellerGroupsPage (db: Db, sellerId: string, limit: number, after: GroupCursor | null, filter: InboxFilter = { includeBlocked: false }): Promise<GroupedInboxJson> {
  const below = after === null
    ? sql``
    : sql`and (h.last_activity_at < ${after.activityAt}::timestamptz
        or (h.last_activity_at = ${after.activityAt}::timestamptz and h.id > ${after.chatId}::uuid))`
  const result = await sql<{ groups: string | null, last_at: string | null, last_id: string | null, more: boolean, total_chats: number, total_listings: number }>`
    with heads as (
      select h.listing_id, h.last_activity_at, h.id from chats h
      where h.seller_id = ${sellerId} and ${sellerSees(sql`h`, filter)} ${below}
        and not exists (select 1 from chats n where n.seller_id = h.seller_id and n.listing_id = h.listing_id
          and ${sellerSees(sql`n`, filter)}
          and (n.last_activity_at > h.last_activity_at or (n.last_activity_at = h.last_activity_at and n.id < h.id)))
      order by h.last_activity_at desc, h.id
      limit ${limit + 1}
    ),
    page as (select listing_id from heads order by last_activity_at desc, id limit ${limit}),
    g as (${groupedSelect(groupsJson(sellerId, sql`select listing_id from page`, filter))}),
    last as (select activity_at, head_id from g order by activity_at, head_id desc limit 1)
    select (select '[' || string_agg(json, ',' order by activity_at desc, head_id) || ']' from g) as groups,
      (select ${isoMicros(sql`activity_at`)} from last) as last_at, (select head_id from last) as last_id,
      (select count(*) from heads) > ${limit} as more,
      t.total_chats, t.total_listings
    from (select count(*)::int as total_chats, count(distinct listing_id)::int as total_listings
      from chats c where c.seller_id = ${sellerId} and ${sellerSees(sql`c`, filter)}) t`.execute(db)
  const row = result.rows[0]
  if (row === undefined) throw new Error('grouped inbox page: no row')
  return {
    groups: row.groups ?? '[]',
    next: row.more && row.last_at !== null && row.last_id !== null ? { activityAt: row.last_at, chatId: row.last_id } : null,
    totalChats: row.total_chats,
    totalListings: row.total_listings
  }
}

/** Remembers a side's latest display name on a chat; the row as it is now. */
export async function setDisplayName (db: Db, chatId: string, role: Role, name: string): Promise<ChatRow | undefined> {
  return await db.updateTable('chats')
    .set(role === 'seller' ? { seller_display_name: name } : { buyer_display_name: name })
    .where('id', '=', chatId)
    .returningAll()
    .executeTakeFirst()
}
