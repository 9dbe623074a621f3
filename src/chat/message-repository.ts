// Owns message rows: the one-statement send that assigns the next seq, and history pages by seq.
import { sql } from 'kysely'
import type { Identity } from '../auth/identity.js'
import type { MessageRow } from '../db/schema.js'
import { isoText, type ChatListRow, type Db } from './chat-repository.js'
import { preparedAs } from '../db/prepared.js'

export interface NewMessage {
  id: string
  chatId: string
  senderId: string
  senderIsRegistered: boolean
  text: string
  preview: string
  clientMessageId: string | null
  /** What the contact filter found; stored for moderators. */
  flags?: readonly string[]
}

/** A message just stored, its timestamp already as ISO text (it goes straight into ack and message frames). */
export type StoredMessage = Omit<MessageRow, 'created_at'> & { created_at: string }

/** What became of one message of a batch. */
export type InsertOutcome =
  | { kind: 'stored', message: StoredMessage, chat: ChatListRow }
  /** The sender already used this client_message_id in this chat: nothing new is stored. */
  | { kind: 'duplicate' }
  /** The chat does not exist or the sender is not in it. */
  | { kind: 'not-found' }
  /**
   * The sender was in the chat when the statement began, but a claim changed the chat's buyer (or merged it away)
   * before its row lock was granted: nothing was stored, and the message must be tried again in a new statement.
   */
  | { kind: 'retry' }
  /** The other participant blocked the sender: nothing is stored. */
  | { kind: 'blocked' }

const PG_UNIQUE_VIOLATION = '23505'
const PG_DEADLOCK = '40P01'

export function isUniqueViolation (error: unknown, constraint?: string): boolean {
  const e = error as { code?: string, constraint?: string, message?: string }
  if (e?.code !== PG_UNIQUE_VIOLATION) return false
  return constraint === undefined || e.constraint === constraint || (e.message ?? '').includes(constraint)
}

// SQLSTATE classes a value carried by the statement can cause: 22 data exception (a character the encoding lacks,
// a number out of range), 23 integrity constraint violation, 54 program limit exceeded (an index row too large).
const CONTENT_ERROR_CLASSES = new Set(['22', '23', '54'])

/**
 * The database refused the statement for something it carried: without the offending value the rest would store.
 * Connection, resource, shutdown and permission failures are not this: they would fail any statement alike.
 */
export function isRefusedForContent (error: unknown): boolean {
  const code = (error as { code?: unknown })?.code
  return typeof code === 'string' && code.length === 5 && CONTENT_ERROR_CLASSES.has(code.slice(0, 2))
}

/** The whole statement was aborted to break a lock cycle; it changed nothing and may simply run again. */
export function isDeadlock (error: unknown): boolean {
  return (error as { code?: string })?.code === PG_DEADLOCK
}

type BatchRow = ChatListRow & {
  ord: string | number
  known: boolean
  original_seq: number | null
  message_seq: number | null
  blocked: boolean | null
}

/**
 * The chat columns of a stored message's row; the rows of messages not stored carry as many nulls instead (a UNION of
 * unequal widths is an error, so a column added to one list and not the other fails every send at once).
 */
const CHAT_COLUMNS = sql`b.id, b.listing_id, b.seller_id, b.buyer_id, b.buyer_is_registered, b.buyer_label, b.last_seq,
  b.seller_last_read_seq, b.buyer_last_read_seq, b.seller_hidden, b.buyer_hidden, b.blocked_by_seller,
  b.blocked_by_buyer, b.last_message_text,
  b.last_message_sender_id, ${isoText('b.last_message_at')} as last_message_at,
  ${isoText('b.last_activity_at')} as last_activity_at, ${isoText('b.created_at')} as created_at,
  ${isoText('b.updated_at')} as updated_at, b.buyer_display_name, b.seller_display_name, b.listing_title,
  b.listing_price, b.listing_currency, b.listing_image_url, b.listing_url`
const NO_CHAT_COLUMNS = sql.raw(Array.from({ length: 26 }, () => 'null').join(', '))

/**
 * Stores a batch of messages in one statement, one outcome per message in order. Per chat, the seq is bumped by the
 * number of its new messages inside the UPDATE, so a concurrent send to the same chat (another connection or
 * instance) waits for the row lock and then counts on from the committed value: seqs never collide or skip. Within
 * a chat, messages take seqs in batch order; the sender's read pointer moves to their own newest message and both
 * sides see the chat again. The join on chats is also the participant check. A client_message_id the sender already
 * used is reported as a duplicate and stored again never; two uses of one id inside a single batch, or a race with
 * another connection, fail the whole statement with a unique violation and change nothing.
 * The returned chat row is the chat after the whole batch.
 *
 * Every step is linear in the batch whatever the planner estimates: no step joins two of the statement's own steps.
 * The planner cannot count a step's rows (it guessed one or two for 500) and joined them with nested loops that
 * compared every message with every other, over a quarter of the statement's CPU at 500 messages on PGlite and on
 * PostgreSQL alike. Instead each chat's new messages travel as arrays on its bumped row and are unnested from it
 * where they are inserted and reported; only tables are joined, through their indexes.
 */
export async function insertMessages (db: Db, batch: readonly NewMessage[], notifyDelaySeconds: number | null = null): Promise<InsertOutcome[]> {
  if (batch.length === 0) return []
  const column = <K extends keyof NewMessage>(key: K): Array<NewMessage[K]> => batch.map((m) => m[key])
  // Prepared (parsed and planned once per connection): the service's hottest statement; arrays keep its text fixed.
  const result = await sql<BatchRow>`${preparedAs('insert-messages')}
    with input as (
      select * from unnest(${column('id')}::uuid[], ${column('chatId')}::uuid[], ${column('senderId')}::text[],
        ${column('senderIsRegistered')}::boolean[], ${column('text')}::text[], ${column('preview')}::text[],
        ${column('clientMessageId')}::text[], ${batch.map((m) => (m.flags ?? []).join(','))}::text[])
        with ordinality as i(id, chat_id, sender_id, sender_is_registered, message_text, preview, client_message_id, flags, ord)
    ), checked as (
      -- every message of the batch, known or not: the not-stored ones are reported from here without a join back
      select i.*, c.id is not null as known, (c.seller_id = i.sender_id and i.sender_is_registered) as is_seller,
        -- a probe of the unique index per message whatever the estimates (as a join it read the whole table while small)
        (select m.seq from messages m where c.id is not null and m.chat_id = i.chat_id and m.sender_id = i.sender_id
          and m.sender_is_registered = i.sender_is_registered and m.client_message_id = i.client_message_id) as original_seq,
        -- the block is checked in the statement that stores, so one unblocked a moment ago is never refused and one blocked never slips in
        case when c.seller_id = i.sender_id and i.sender_is_registered then c.blocked_by_buyer else c.blocked_by_seller end as blocked
      from input i
      left join chats c on c.id = i.chat_id
        and ((c.seller_id = i.sender_id and i.sender_is_registered)
          or (c.buyer_id = i.sender_id and c.buyer_is_registered = i.sender_is_registered))
    ), fresh as (
      select checked.*, row_number() over w as rank, lead(ord) over w is null as is_last
      from checked where known and original_seq is null and not blocked
      window w as (partition by chat_id order by ord)
    ), per_chat as (
      -- Each chat's new messages as arrays, element k of every array the same message (the aggregates of a group
      -- take its rows one at a time, together), each with its own rank: its seq is the chat's base seq + rank.
      -- No array_agg(... order by): before PostgreSQL 16 each such call sorts its group on its own, which cost 5 to
      -- 10 µs per message at 50 messages on PostgreSQL 15, as much as the nested loop saved there.
      select chat_id, count(*)::int as n,
        max(rank) filter (where is_seller) as seller_rank,
        max(rank) filter (where not is_seller) as buyer_rank,
        max(preview) filter (where is_last) as preview,
        max(sender_id) filter (where is_last) as sender_id,
        max(sender_id) filter (where not is_seller) as buyer_sender_id,
        bool_or(sender_is_registered) filter (where not is_seller) as buyer_sender_registered,
        array_agg(ord) as ords, array_agg(rank) as ranks, array_agg(id) as ids, array_agg(sender_id) as sender_ids,
        array_agg(sender_is_registered) as senders_registered, array_agg(message_text) as texts,
        array_agg(client_message_id) as client_message_ids, array_agg(flags) as flag_lists
      from fresh group by chat_id
    ), bumped as (
      update chats c set
        last_seq = c.last_seq + p.n,
        seller_last_read_seq = case when p.seller_rank is null then c.seller_last_read_seq else c.last_seq + p.seller_rank end,
        buyer_last_read_seq = case when p.buyer_rank is null then c.buyer_last_read_seq else c.last_seq + p.buyer_rank end,
        seller_hidden = false,
        buyer_hidden = false,
        last_message_text = p.preview,
        last_message_sender_id = p.sender_id,
        last_message_at = now(),
        last_activity_at = now(),
        updated_at = now()
      from per_chat p
      -- Rechecked on the locked row: a claim that committed while this waited moved or merged the chat away from
      -- its guest buyer, and that buyer's messages must not land in it (see the 'retry' outcome).
      where c.id = p.chat_id
        and (p.buyer_sender_id is null or (c.buyer_id = p.buyer_sender_id and c.buyer_is_registered = p.buyer_sender_registered))
      returning c.id, c.listing_id, c.seller_id, c.buyer_id, c.buyer_is_registered, c.buyer_label, c.last_seq,
        c.seller_last_read_seq, c.buyer_last_read_seq, c.seller_hidden, c.buyer_hidden, c.blocked_by_seller,
        c.blocked_by_buyer, c.last_message_text, c.last_message_sender_id, c.last_message_at, c.last_activity_at,
        c.created_at, c.updated_at, c.buyer_display_name, c.seller_display_name, c.listing_title, c.listing_price,
        c.listing_currency, c.listing_image_url, c.listing_url, c.last_seq - p.n as base_seq,
        p.seller_rank, p.buyer_rank, p.ords, p.ranks, p.ids, p.sender_ids, p.senders_registered, p.texts,
        p.client_message_ids, p.flag_lists
    ), inserted as (
      insert into messages (chat_id, seq, id, sender_id, sender_is_registered, message_text, client_message_id, flags, created_at)
      select b.id, b.base_seq + f.rank, f.id, f.sender_id, f.sender_is_registered, f.message_text,
        f.client_message_id, coalesce(string_to_array(nullif(f.flags, ''), ','), '{}'::text[]), b.last_message_at
      from bumped b
      cross join lateral unnest(b.ranks, b.ids, b.sender_ids, b.senders_registered, b.texts, b.client_message_ids, b.flag_lists)
        as f(rank, id, sender_id, sender_is_registered, message_text, client_message_id, flags)
    ), pending as (
      -- Notifications (src/notify/): in the same statement, so a committed message always has its pending row. Per
      -- chat, each side that received a message is due delay seconds after its first unread one (do nothing keeps
      -- the first), and a chat's first message is due at once as chat.created. Null delay: notifications are off.
      insert into notify_pending (chat_id, kind, due_at)
      select b.id, r.kind, case when r.kind = 'chat_created' then now() else now() + make_interval(secs => ${notifyDelaySeconds}::float8) end
      from bumped b
      cross join lateral (values ('buyer', b.seller_rank is not null), ('seller', b.buyer_rank is not null),
        ('chat_created', b.base_seq = 0)) as r(kind, wanted)
      where r.wanted and ${notifyDelaySeconds}::float8 is not null
      on conflict (chat_id, kind) do nothing
    )
    -- One row per message stored (its seq as inserted above), then one per message not fresh; a fresh message whose
    -- chat the UPDATE skipped (a claim moved it) has no row: the caller reports it as 'retry'.
    select s.ord, true as known, null::int as original_seq, false as blocked, (b.base_seq + s.rank)::int as message_seq,
      ${CHAT_COLUMNS}
    from bumped b
    cross join lateral unnest(b.ords, b.ranks) as s(ord, rank)
    union all
    select ck.ord, ck.known, ck.original_seq, ck.blocked, null, ${NO_CHAT_COLUMNS}
    from checked ck where not coalesce(ck.known and ck.original_seq is null and not ck.blocked, false)`.execute(db)
  const rows: Array<BatchRow | undefined> = new Array(batch.length)
  for (const row of result.rows) rows[Number(row.ord) - 1] = row
  return batch.map((m, index): InsertOutcome => {
    const row = rows[index]
    if (row === undefined) return { kind: 'retry' }
    if (!row.known) return { kind: 'not-found' }
    if (row.original_seq !== null) return { kind: 'duplicate' }
    // Blocked first: a refused message has no seq either, and must not be mistaken for one a claim displaced.
    if (row.blocked === true) return { kind: 'blocked' }
    if (row.message_seq === null) return { kind: 'retry' }
    const { ord: _ord, known: _known, original_seq: _original, blocked: _blocked, message_seq: seq, ...chat } = row
    return {
      kind: 'stored',
      chat,
      message: {
        chat_id: m.chatId,
        seq: seq as number,
        id: m.id,
        sender_id: m.senderId,
        sender_is_registered: m.senderIsRegistered,
        message_text: m.text,
        client_message_id: m.clientMessageId,
        flags: [...(m.flags ?? [])],
        // stored with the chat's last_message_at, one clock reading for both
        created_at: chat.last_message_at as string
      }
    }
  })
}

export async function findByClientMessageId (db: Db, chatId: string, sender: Identity, clientMessageId: string): Promise<MessageRow | undefined> {
  return await db.selectFrom('messages').selectAll()
    .where('chat_id', '=', chatId).where('sender_id', '=', sender.userId)
    .where('sender_is_registered', '=', sender.registered).where('client_message_id', '=', clientMessageId)
    .executeTakeFirst()
}

export interface PageOptions {
  limit: number
  beforeSeq: number | null
  afterSeq: number | null
  offset: number | null
}

/**
 * A page of history in ascending seq. after_seq reads forward (a reconnecting client filling its gap), stopping
 * before before_seq when both are given; otherwise the newest `limit` messages before before_seq (or the end),
 * optionally skipping `offset` from the end. Fetches one extra row to know whether more exist in the direction of reading.
 */
export async function pageMessages (db: Db, chatId: string, options: PageOptions): Promise<{ messages: MessageRow[], hasMore: boolean }> {
  let query = db.selectFrom('messages').selectAll().where('chat_id', '=', chatId)
  if (options.beforeSeq !== null) query = query.where('seq', '<', options.beforeSeq)
  if (options.afterSeq !== null) {
    const rows = await query.where('seq', '>', options.afterSeq).orderBy('seq', 'asc').limit(options.limit + 1).execute()
    return { messages: rows.slice(0, options.limit), hasMore: rows.length > options.limit }
  }
  const rows = await query.orderBy('seq', 'desc').limit(options.limit + 1).offset(options.offset ?? 0).execute()
  return { messages: rows.slice(0, options.limit).reverse(), hasMore: rows.length > options.limit }
}
