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

/**
 * A page of the caller's chats, newest activity first, chats they blocked someone in last (still readable, out of
 * the way). Each side and blocked state is its own walk down its activity index, stopped at offset + limit, and the
 * walks are merged: ordered by the blocked flag first, one query had to read and sort every chat of the caller
 * (32 ms for a seller with 20,000). A seller's total is their inbox counter with blocked chats (migration 0009);
 * only the buyer side, a handful of chats per person, is counted.
 */
export async function listChats (db: Db, identity: Identity, options: ListOptions): Promise<{ rows: ChatRow[], total: number }> {
  const me = identity.userId
  const asSeller = identity.registered && options.role !== 'buyer'
  const asBuyer = options.role !== 'seller'
  const upTo = options.offset + options.limit
  // a registered user is never the buyer in their own listing's chat (cannot_chat_with_self), but no row is listed twice
  const buyerSide = sql`buyer_id = ${me} and buyer_is_registered = ${identity.registered} and not buyer_hidden
    ${asSeller ? sql`and seller_id <> ${me}` : sql``}`
  const sellerSide = sql`seller_id = ${me} and not seller_hidden and last_seq > 0`
  const walks: RawBuilder<unknown>[] = []
  for (const blocked of [false, true]) {
    if (asSeller) walks.push(sql`(select * from chats where ${sellerSide} and blocked_by_seller = ${blocked} order by last_activity_at desc, id limit ${upTo})`)
    if (asBuyer) walks.push(sql`(select * from chats where ${buyerSide} and blocked_by_buyer = ${blocked} order by last_activity_at desc, id limit ${upTo})`)
  }
  // an anonymous buyer asking for the chats they sell in: there are none
  if (walks.length === 0) return { rows: [], total: 0 }
  const [rows, sellerTotal, buyerTotal] = await Promise.all([
    sql<ChatRow>`select * from (${sql.join(walks, sql` union all `)}) mine
      order by ${blockedByCaller(identity)}, last_activity_at desc, id
      limit ${options.limit} offset ${options.offset}`.execute(db),
    asSeller ? sql<{ n: number }>`select chats_with_blocked as n from seller_inbox_counts where seller_id = ${me}`.execute(db) : null,
    asBuyer ? sql<{ n: string }>`select count(*) as n from chats where ${buyerSide}`.execute(db) : null
  ])
  return { rows: rows.rows, total: Number(sellerTotal?.rows[0]?.n ?? 0) + Number(buyerTotal?.rows[0]?.n ?? 0) }
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

/** The columns a chat summary is built from (see summarize in chat-service.ts), timestamps as wire-ready text. */
export type SummaryRow = Pick<ChatListRow, 'id' | 'listing_id' | 'seller_id' | 'buyer_id' | 'buyer_is_registered' | 'buyer_label'
| 'last_seq' | 'seller_last_read_seq' | 'buyer_last_read_seq' | 'last_message_text' | 'last_message_sender_id' | 'last_message_at'
| 'created_at' | 'updated_at' | 'buyer_display_name' | 'seller_display_name' | 'listing_title' | 'listing_price'
| 'listing_currency' | 'listing_image_url' | 'listing_url' | 'blocked_by_seller' | 'blocked_by_buyer'>

/** A chat's place in the grouped inbox, and the version of its row (xmin), under which its summary may be cached. */
export interface InboxEntry {
  id: string
  listing_id: string
  version: string
}

export interface SellerInboxPage {
  /** the page's chats, newest activity first (ties by id): a listing's chats follow its head, the page's first chat of it */
  chats: InboxEntry[]
  /** where the next page starts, null on the last page */
  next: GroupCursor | null
  totalChats: number
  totalListings: number
}

/** Which of a seller's chats the grouped inbox shows: the blocked ones only when asked (includeBlocked). */
export interface InboxFilter { includeBlocked: boolean }

// Hidden chats and chats without a message never show in the seller's inbox; blocked ones only on request.
const sellerSees = (alias: RawBuilder<unknown>, filter: InboxFilter): RawBuilder<boolean> =>
  sql<boolean>`not ${alias}.seller_hidden and ${alias}.last_seq > 0 ${filter.includeBlocked ? sql`` : sql`and not ${alias}.blocked_by_seller`}`

const entryColumns = sql`c.id, c.listing_id, c.xmin::text as version`

const isoMicros = (column: RawBuilder<unknown>): RawBuilder<string> =>
  sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

/**
 * Every visible chat of a seller, newest activity first (ties by id): the grouped inbox without paging. Grouping them
 * in that order puts each listing where its head chat (its newest) is. The rows come as one text, each chat as its id
 * (36 characters), version, a space, its listing id's length in characters, a space and the listing id: 2,000 rows of
 * three columns cost the driver ~1.9 ms of the service's CPU (and their 8,000 objects its collector) against ~0.5 ms
 * for the text, for ~0.6 ms more in PostgreSQL. A length, not a separator: a listing id may hold any character but NUL.
 */
export async function sellerInboxEntries (db: Db, sellerId: string, filter: InboxFilter = { includeBlocked: false }): Promise<InboxEntry[]> {
  const result = await sql<{ entries: string | null }>`select string_agg(c.id::text || c.xmin::text || ' ' ||
      char_length(c.listing_id) || ' ' || c.listing_id, '' order by c.last_activity_at desc, c.id) as entries
    from chats c where c.seller_id = ${sellerId} and ${sellerSees(sql`c`, filter)}`.execute(db)
  return parseEntries(result.rows[0]?.entries ?? null)
}

/** The entries sellerInboxEntries packed into one text, in their order. */
export function parseEntries (text: string | null): InboxEntry[] {
  const entries: InboxEntry[] = []
  if (text === null) return entries
  let at = 0
  while (at < text.length) {
    const id = text.slice(at, at + 36)
    const afterVersion = text.indexOf(' ', at + 36)
    const afterLength = text.indexOf(' ', afterVersion + 1)
    if (afterVersion < 0 || afterLength < 0) throw new Error('grouped inbox: malformed entries')
    const chars = Number(text.slice(afterVersion + 1, afterLength))
    // PostgreSQL counts characters (code points); a JavaScript string has two units for one beyond U+FFFF
    let end = afterLength + 1
    for (let n = 0; n < chars; n++) end += (text.codePointAt(end) ?? 0) > 0xffff ? 2 : 1
    if (end > text.length) throw new Error('grouped inbox: malformed entries')
    entries.push({ id, listing_id: text.slice(afterLength + 1, end), version: text.slice(at + 36, afterVersion) })
    at = end
  }
  return entries
}

/**
 * The summary columns of these chats of the seller, no more, with their row versions: the driver's work is per column
 * value (2,000 chats are 46,000 of them), and Postgres printing the JSON itself (to_json per text, row_to_json) costs
 * several times the query (EXPLAIN ANALYZE). A chat that no longer exists (merged by a claim) is not in the answer.
 * The seller narrows the scan when most of their chats are asked for (ids alone: 2,000 probes of the primary key, or
 * a sequential scan); for a few ids the planner takes the primary key.
 */
export async function summaryRows (db: Db, sellerId: string, chatIds: string[]): Promise<Array<SummaryRow & { version: string }>> {
  if (chatIds.length === 0) return []
  const result = await sql<SummaryRow & { version: string }>`select c.id, c.listing_id, c.seller_id, c.buyer_id,
      c.buyer_is_registered, c.buyer_label, c.last_seq, c.seller_last_read_seq, c.buyer_last_read_seq, c.last_message_text,
      c.last_message_sender_id, ${isoText('c.last_message_at')} as last_message_at, ${isoText('c.created_at')} as created_at,
      ${isoText('c.updated_at')} as updated_at, c.buyer_display_name, c.seller_display_name, c.listing_title,
      c.listing_price, c.listing_currency, c.listing_image_url, c.listing_url, c.blocked_by_seller, c.blocked_by_buyer,
      c.xmin::text as version
    from chats c where c.seller_id = ${sellerId} and c.id = any(${chatIds}::uuid[])`.execute(db)
  return result.rows
}

/**
 * Most chats one page walks past looking for its listings' heads, per listing asked for. A listing's older chats lie
 * below its head, so late pages of an inbox whose listings have many chats each walk mostly past chats that are not
 * heads; past the last head the walk would read the rest of the inbox to learn there is no more (~130 ms at 20,000
 * chats). Capped, a page costs the same at any size: it may then hold fewer listings than asked, even none, with a
 * cursor where the walk stopped.
 */
export const PAGE_WALK_PER_LISTING = 8

/**
 * The chats of at most `limit` listings after `after`, in one statement. A listing's place is its head chat (newest
 * activity, ties by id); the page takes the heads below the cursor, so a listing never spans two pages, and one whose
 * activity moved above the cursor after it was shown is not shown again (the inbox socket reports that change). The
 * walk goes down the seller's activity index from the cursor, over at most PAGE_WALK_PER_LISTING × (limit + 1) chats,
 * each checked to be its listing's newest visible chat; the next cursor is the page's last head, or where the walk
 * stopped when it stopped short. The page's few scalars ride on every chat row (one row of nulls when the page is
 * empty) rather than costing a second round trip. Its totals are the seller's counters (migration 0009): counting the
 * chats took ~8 ms at 20,000.
 */
export async function sellerInboxPage (db: Db, sellerId: string, limit: number, after: GroupCursor | null, filter: InboxFilter = { includeBlocked: false }): Promise<SellerInboxPage> {
  // The walk goes down the activity index from the cursor. For that the cursor is one range on the index (the tie on
  // id a filter: an OR of the two is a bitmap scan), and its time a sub-select the planner cannot see into: given the
  // value it trusts the column's histogram, which for a seller whose chats are older than most puts 4 chats below the
  // cursor where there are 1,950, and then reads them all (a head check each, then a sort).
  const at = after === null ? null : sql`(select ${after.activityAt}::timestamptz)`
  const below = after === null || at === null
    ? sql``
    : sql`and h.last_activity_at <= ${at} and (h.last_activity_at < ${at} or h.id > ${after.chatId}::uuid)`
  const walk = PAGE_WALK_PER_LISTING * (limit + 1)
  type PageRow = { [K in keyof InboxEntry]: InboxEntry[K] | null } & {
    total_chats: number
    total_listings: number
    last_at: string | null
    last_id: string | null
  }
  const result = await sql<PageRow>`
    with walked as materialized (
      select h.seller_id, h.listing_id, h.last_activity_at, h.id from chats h
      where h.seller_id = ${sellerId} and ${sellerSees(sql`h`, filter)} ${below}
      order by h.last_activity_at desc, h.id
      limit ${walk}
    ),
    heads as (
      select w.listing_id, w.last_activity_at, w.id from walked w
      -- One probe per chat walked, a range on the listing's activity index as for the cursor: the probe starts at w,
      -- so the planner has no reason to take the (listing, seller, buyer) key and filter all of the listing's chats.
      -- A scalar sub-select, not NOT EXISTS: that becomes an anti join, which for the walk's known size the planner
      -- makes a hash of every visible chat of every seller.
      where (select true from chats n where n.seller_id = w.seller_id and n.listing_id = w.listing_id
          and ${sellerSees(sql`n`, filter)}
          and n.last_activity_at >= w.last_activity_at and (n.last_activity_at > w.last_activity_at or n.id < w.id)
          limit 1) is null
      order by w.last_activity_at desc, w.id
      limit ${limit + 1}
    ),
    page as (select listing_id from heads order by last_activity_at desc, id limit ${limit}),
    -- where the next page starts: the page's last head when there are more heads, else the last chat walked past
    -- when the walk stopped at its cap (heads may lie below it), else nowhere
    last as (
      select last_activity_at, id from (
        (select last_activity_at, id, 1 as rank from heads order by last_activity_at desc, id offset ${limit - 1} limit 1)
        union all
        (select last_activity_at, id, 2 from walked order by last_activity_at desc, id offset ${walk - 1} limit 1)
      ) candidates
      where rank = 2 or (select count(*) from heads) > ${limit}
      order by rank limit 1
    ),
    -- the totals as the trigger on chats keeps them (migration 0009): one row, whatever the inbox's size
    t as (
      select coalesce(n.${sql.raw(filter.includeBlocked ? 'chats_with_blocked' : 'chats')}, 0) as total_chats,
        coalesce(n.${sql.raw(filter.includeBlocked ? 'listings_with_blocked' : 'listings')}, 0) as total_listings,
        (select ${isoMicros(sql`last_activity_at`)} from last) as last_at, (select id from last) as last_id
      from (select 1) one left join seller_inbox_counts n on n.seller_id = ${sellerId}
    )
    select t.total_chats, t.total_listings, t.last_at, t.last_id, ${entryColumns}
    from t left join chats c on c.seller_id = ${sellerId} and ${sellerSees(sql`c`, filter)}
      and c.listing_id in (select listing_id from page)
    order by c.last_activity_at desc, c.id`.execute(db)
  const first = result.rows[0]
  if (first === undefined) throw new Error('grouped inbox page: no row')
  return {
    chats: (first.id === null ? [] : result.rows) as InboxEntry[],
    next: first.last_at !== null && first.last_id !== null ? { activityAt: first.last_at, chatId: first.last_id } : null,
    totalChats: first.total_chats,
    totalListings: first.total_listings
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
