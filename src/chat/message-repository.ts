// Owns message rows: the one-statement send that assigns the next seq, and history pages by seq.
import { sql } from 'kysely'
import type { ChatRow, MessageRow } from '../db/schema.js'
import type { Db } from './chat-repository.js'
import { preparedAs } from '../db/prepared.js'

export interface NewMessage {
  id: string
  chatId: string
  senderId: string
  senderIsRegistered: boolean
  text: string
  preview: string
  clientMessageId: string | null
}

export interface InsertedMessage {
  message: MessageRow
  chat: ChatRow
}

const PG_UNIQUE_VIOLATION = '23505'

export function isUniqueViolation (error: unknown, constraint?: string): boolean {
  const e = error as { code?: string, constraint?: string, message?: string }
  if (e?.code !== PG_UNIQUE_VIOLATION) return false
  return constraint === undefined || e.constraint === constraint || (e.message ?? '').includes(constraint)
}

/**
 * Bumps the chat's seq and inserts the message in one statement, so the seq is taken and used atomically (no gaps),
 * the sender's read pointer moves with it, and both sides see the chat again. The WHERE clause is also the
 * participant check. Returns undefined when the chat does not exist or the sender is not in it.
 * A reused client_message_id fails the whole statement with a unique violation and changes nothing.
 */
export async function insertMessage (db: Db, m: NewMessage): Promise<InsertedMessage | undefined> {
  const isSeller = sql<boolean>`(seller_id = ${m.senderId} and ${m.senderIsRegistered}::boolean)`
  // Prepared (parsed and planned once per connection): this runs once per message sent, the service's hottest statement.
  const result = await sql<ChatRow & { message_id: string, message_created_at: Date }>`${preparedAs('insert-message')}
    with bumped as (
      update chats set
        last_seq = last_seq + 1,
        seller_last_read_seq = case when ${isSeller} then last_seq + 1 else seller_last_read_seq end,
        buyer_last_read_seq = case when ${isSeller} then buyer_last_read_seq else last_seq + 1 end,
        seller_hidden = false,
        buyer_hidden = false,
        last_message_text = ${m.preview},
        last_message_sender_id = ${m.senderId},
        last_message_at = now(),
        last_activity_at = now(),
        updated_at = now()
      where id = ${m.chatId}
        and (${isSeller} or (buyer_id = ${m.senderId} and buyer_is_registered = ${m.senderIsRegistered}::boolean))
      returning *
    ), inserted as (
      insert into messages (chat_id, seq, id, sender_id, sender_is_registered, message_text, client_message_id, created_at)
      select id, last_seq, ${m.id}::uuid, ${m.senderId}, ${m.senderIsRegistered}::boolean, ${m.text}, ${m.clientMessageId}, last_message_at
      from bumped
      returning id, created_at
    )
    select bumped.id, bumped.listing_id, bumped.seller_id, bumped.buyer_id, bumped.buyer_is_registered, bumped.buyer_label,
      bumped.last_seq, bumped.seller_last_read_seq, bumped.buyer_last_read_seq, bumped.seller_hidden, bumped.buyer_hidden,
      bumped.last_message_text, bumped.last_message_sender_id, bumped.last_message_at, bumped.last_activity_at,
      bumped.created_at, bumped.updated_at, inserted.id as message_id, inserted.created_at as message_created_at
    from bumped, inserted`.execute(db)
  const row = result.rows[0]
  if (row === undefined) return undefined
  const { message_id: messageId, message_created_at: createdAt, ...chat } = row
  return {
    chat,
    message: {
      chat_id: chat.id,
      seq: chat.last_seq,
      id: messageId,
      sender_id: m.senderId,
      sender_is_registered: m.senderIsRegistered,
      message_text: m.text,
      client_message_id: m.clientMessageId,
      created_at: createdAt
    }
  }
}

export async function findByClientMessageId (db: Db, chatId: string, senderId: string, clientMessageId: string): Promise<MessageRow | undefined> {
  return await db.selectFrom('messages').selectAll()
    .where('chat_id', '=', chatId).where('sender_id', '=', senderId).where('client_message_id', '=', clientMessageId)
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
