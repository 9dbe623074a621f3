// Owns the claim of a guest's chats by a registered user: the durable claimed-guest record, moving chats, and merging two chats into one with renumbered seqs.
import { sql } from 'kysely'
import type { ChatRow } from '../db/schema.js'
import { AppError } from '../errors.js'
import type { Db } from './chat-repository.js'

export type ClaimOutcome =
  /** This call claimed the guest: chats moved to the user as they were, and chats merged into one the user had. */
  | { kind: 'claimed', moved: ChatRow[], merged: Array<{ fromChatId: string, chat: ChatRow }> }
  /** The same user claimed this guest before: nothing changed. */
  | { kind: 'repeat' }
  /** Another user claimed this guest before: nothing changed. */
  | { kind: 'taken' }

export interface Claimer {
  userId: string
  /** The claimer's display name from their token, if any: it becomes the buyer's name on the claimed chats. */
  displayName: string | null
}

/**
 * Serialises a claim with the guest opening a new chat (see openChat): whichever comes second sees the other's
 * commit, so no guest chat is created behind a claim's back. Transaction-scoped.
 */
export async function lockGuest (tx: Db, guestId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`guest-claim:${guestId}`}))`.execute(tx)
}

/** Whether this guest id was claimed (the durable truth the token check caches). */
export async function isClaimedGuest (db: Db, guestId: string): Promise<boolean> {
  const row = await db.selectFrom('claimed_guests').select('guest_id').where('guest_id', '=', guestId).executeTakeFirst()
  return row !== undefined
}

/**
 * Claims every chat of the guest for the user. Must run inside one transaction. The claimed_guests row is written
 * first: a second claim of the same guest waits on its key until this one commits or rolls back, so of two concurrent
 * claims exactly one wins. The chats involved are then locked (FOR UPDATE, in id order), the same row locks a send
 * takes when it bumps a chat's seq: sends to these chats wait for the claim and then see the moved or merged chat.
 */
export async function claimGuestChats (tx: Db, guestId: string, claimer: Claimer): Promise<ClaimOutcome> {
  const userId = claimer.userId
  await lockGuest(tx, guestId)
  const recorded = await tx.insertInto('claimed_guests').values({ guest_id: guestId, user_id: userId })
    .onConflict((oc) => oc.column('guest_id').doNothing())
    .returning('user_id')
    .executeTakeFirst()
  if (recorded === undefined) {
    const owner = await tx.selectFrom('claimed_guests').select('user_id').where('guest_id', '=', guestId).executeTakeFirstOrThrow()
    return owner.user_id === userId ? { kind: 'repeat' } : { kind: 'taken' }
  }

  const guestChats = await lockedGuestChats(tx, guestId)
  if (guestChats.some((chat) => chat.seller_id === userId)) {
    throw new AppError('cannot_claim_own_listing_chat', 'This guest wrote to one of your own listings: a seller cannot claim their buyer')
  }
  if (guestChats.length === 0) return { kind: 'claimed', moved: [], merged: [] }

  const targets = await tx.selectFrom('chats').select(['id', 'listing_id', 'seller_id'])
    .where('buyer_id', '=', userId).where('buyer_is_registered', '=', true)
    .where((eb) => eb.or(guestChats.map((chat) => eb.and([eb('listing_id', '=', chat.listing_id), eb('seller_id', '=', chat.seller_id)]))))
    .execute()
  // Every chat involved, locked in one statement in id order, so two claims (or a claim and a send batch) never
  // wait on each other in a cycle for long: a deadlock aborts one, which is retried.
  await lockChats(tx, [...guestChats.map((chat) => chat.id), ...targets.map((chat) => chat.id)])

  const moved: ChatRow[] = []
  const merged: Array<{ fromChatId: string, chat: ChatRow }> = []
  for (const guestChat of guestChats) {
    const target = targets.find((chat) => chat.listing_id === guestChat.listing_id && chat.seller_id === guestChat.seller_id)
    if (target === undefined) moved.push(await moveChat(tx, guestChat.id, guestId, claimer))
    else merged.push({ fromChatId: guestChat.id, chat: await mergeChat(tx, guestChat.id, target.id, guestId, claimer) })
  }
  return { kind: 'claimed', moved, merged }
}

async function lockedGuestChats (tx: Db, guestId: string): Promise<ChatRow[]> {
  return await tx.selectFrom('chats').selectAll()
    .where('buyer_id', '=', guestId).where('buyer_is_registered', '=', false)
    .orderBy('id').forUpdate()
    .execute()
}

async function lockChats (tx: Db, ids: string[]): Promise<void> {
  await tx.selectFrom('chats').select('id').where('id', 'in', [...new Set(ids)].sort()).orderBy('id').forUpdate().execute()
}

// A guest's message becomes the user's: the same person, now known by their account.
const guestSender = (guestId: string) => sql<boolean>`(m.sender_id = ${guestId} and not m.sender_is_registered)`

/** The chat keeps its id, seqs and pointers; its buyer and the buyer's messages become the user's. */
async function moveChat (tx: Db, chatId: string, guestId: string, claimer: Claimer): Promise<ChatRow> {
  // The user had no part in this chat (a seller cannot claim), so no client_message_id of theirs can collide here.
  await tx.updateTable('messages').set({ sender_id: claimer.userId, sender_is_registered: true })
    .where('chat_id', '=', chatId).where('sender_id', '=', guestId).where('sender_is_registered', '=', false)
    .execute()
  return await tx.updateTable('chats')
    .set({
      buyer_id: claimer.userId,
      buyer_is_registered: true,
      buyer_label: null,
      buyer_display_name: (eb) => claimer.displayName === null ? eb.ref('buyer_display_name') : eb.val(claimer.displayName),
      last_message_sender_id: (eb) => eb.case().when('last_message_sender_id', '=', guestId).then(claimer.userId)
        .else(eb.ref('last_message_sender_id')).end(),
      updated_at: sql`now()`
    })
    .where('id', '=', chatId)
    .returningAll()
    .executeTakeFirstOrThrow()
}

/**
 * Moves the guest chat's messages into the user's chat about the same listing and seller, then deletes the guest chat.
 * All messages are ordered by created_at (ties: original seq, then the user's chat first) and numbered 1..n; each read
 * pointer becomes the highest new seq its side had read in either chat. A moved message whose client_message_id its
 * (rewritten) sender already used in the user's chat loses the id, so the per-sender key cannot collide.
 */
async function mergeChat (tx: Db, fromId: string, toId: string, guestId: string, claimer: Claimer): Promise<ChatRow> {
  const userId = claimer.userId
  const numbered = sql`
    select m.chat_id, m.seq, row_number() over (order by m.created_at, m.seq, (m.chat_id = ${toId}::uuid) desc) as new_seq
    from messages m where m.chat_id in (${fromId}::uuid, ${toId}::uuid)`
  const pointers = await sql<{ n: number, seller_read: number | null, buyer_read: number | null, last_from: string | null }>`
    with numbered as (${numbered})
    select count(*)::int as n,
      max(n.new_seq) filter (where n.seq <= case when n.chat_id = f.id then f.seller_last_read_seq else t.seller_last_read_seq end)::int as seller_read,
      max(n.new_seq) filter (where n.seq <= case when n.chat_id = f.id then f.buyer_last_read_seq else t.buyer_last_read_seq end)::int as buyer_read,
      (array_agg(n.chat_id::text order by n.new_seq desc))[1] as last_from
    from numbered n, chats f, chats t
    where f.id = ${fromId}::uuid and t.id = ${toId}::uuid`.execute(tx)
  const p = pointers.rows[0]
  if (p === undefined) throw new Error('merge: no pointer row')

  // Negative seqs first: the primary key (chat_id, seq) is checked row by row, and 1..n overlaps the old numbers.
  await sql`
    with numbered as (${numbered})
    update messages m set
      chat_id = ${toId}::uuid,
      seq = -n.new_seq,
      sender_id = case when ${guestSender(guestId)} then ${userId} else m.sender_id end,
      sender_is_registered = m.sender_is_registered or ${guestSender(guestId)},
      client_message_id = case
        when m.chat_id = ${fromId}::uuid and m.client_message_id is not null and exists (
          select 1 from messages o where o.chat_id = ${toId}::uuid and o.client_message_id = m.client_message_id
            and o.sender_id = case when ${guestSender(guestId)} then ${userId} else m.sender_id end
            and o.sender_is_registered = (m.sender_is_registered or ${guestSender(guestId)}))
        then null else m.client_message_id end
    from numbered n
    where m.chat_id = n.chat_id and m.seq = n.seq`.execute(tx)
  await sql`update messages set seq = -seq where chat_id = ${toId}::uuid and seq < 0`.execute(tx)

  const lastFromGuest = p.last_from === fromId
  const result = await sql<ChatRow>`
    update chats t set
      last_seq = ${p.n}::int,
      seller_last_read_seq = ${p.seller_read ?? 0}::int,
      buyer_last_read_seq = ${p.buyer_read ?? 0}::int,
      seller_hidden = t.seller_hidden and f.seller_hidden,
      buyer_hidden = t.buyer_hidden and f.buyer_hidden,
      last_message_text = case when ${lastFromGuest}::boolean then f.last_message_text else t.last_message_text end,
      last_message_sender_id = case when ${lastFromGuest}::boolean
        then (case when f.last_message_sender_id = ${guestId} then ${userId} else f.last_message_sender_id end)
        else t.last_message_sender_id end,
      last_message_at = case when ${lastFromGuest}::boolean then f.last_message_at else t.last_message_at end,
      last_activity_at = greatest(t.last_activity_at, f.last_activity_at),
      created_at = least(t.created_at, f.created_at),
      buyer_display_name = coalesce(${claimer.displayName}::text, t.buyer_display_name),
      seller_display_name = coalesce(t.seller_display_name, f.seller_display_name),
      updated_at = now()
    from chats f
    where t.id = ${toId}::uuid and f.id = ${fromId}::uuid
    returning t.*`.execute(tx)
  const chat = result.rows[0]
  if (chat === undefined) throw new Error('merge: target chat vanished under its lock')
  await tx.deleteFrom('chats').where('id', '=', fromId).execute()
  return chat
}
