// Owns the safety tables: blocks (mirrored on chats), new-chat counts, reports, bans and the moderators' read log.
import { sql } from 'kysely'
import { identityKey, type Identity } from '../auth/identity.js'
import type { Db } from '../chat/chat-repository.js'
import type { ChatRow } from '../db/schema.js'

export async function isBlocked (db: Db, blocker: Identity, blocked: Identity): Promise<boolean> {
  const row = await db.selectFrom('blocks').select('blocker_key')
    .where('blocker_key', '=', identityKey(blocker)).where('blocked_key', '=', identityKey(blocked))
    .executeTakeFirst()
  return row !== undefined
}

/**
 * Sets or lifts blocker's block of blocked and mirrors it on every chat between the two, whichever side each of
 * them is on there; returns the chats whose flag changed. One transaction, so the mirror never disagrees with the truth.
 */
export async function setBlock (db: Db, blocker: Identity, blocked: Identity, on: boolean): Promise<ChatRow[]> {
  return await db.transaction().execute(async (tx) => {
    if (on) {
      await tx.insertInto('blocks').values({ blocker_key: identityKey(blocker), blocked_key: identityKey(blocked) })
        .onConflict((oc) => oc.columns(['blocker_key', 'blocked_key']).doNothing()).execute()
    } else {
      await tx.deleteFrom('blocks')
        .where('blocker_key', '=', identityKey(blocker)).where('blocked_key', '=', identityKey(blocked)).execute()
    }
    const asSeller = blocker.registered
      ? await tx.updateTable('chats').set({ blocked_by_seller: on, updated_at: sql`now()` })
        .where('seller_id', '=', blocker.userId)
        .where('buyer_id', '=', blocked.userId).where('buyer_is_registered', '=', blocked.registered)
        .where('blocked_by_seller', '=', !on)
        .returningAll().execute()
      : []
    const asBuyer = blocked.registered
      ? await tx.updateTable('chats').set({ blocked_by_buyer: on, updated_at: sql`now()` })
        .where('buyer_id', '=', blocker.userId).where('buyer_is_registered', '=', blocker.registered)
        .where('seller_id', '=', blocked.userId)
        .where('blocked_by_buyer', '=', !on)
        .returningAll().execute()
      : []
    return [...asSeller, ...asBuyer]
  })
}

/** A guest's chats opened in the last hour: how many, and when the oldest of them leaves the window (ms since the epoch). */
export async function recentChatsOf (db: Db, buyer: Identity): Promise<{ count: number, oldestAt: number | null }> {
  const row = await db.selectFrom('chats')
    .select([sql<number>`count(*)::int`.as('count'), sql<Date | null>`min(created_at)`.as('oldest')])
    .where('buyer_id', '=', buyer.userId).where('buyer_is_registered', '=', buyer.registered)
    .where('created_at', '>', sql<Date>`now() - interval '1 hour'`)
    .executeTakeFirstOrThrow()
  return { count: Number(row.count), oldestAt: row.oldest === null ? null : new Date(row.oldest).getTime() }
}

export async function isBanned (db: Db, identity: Identity): Promise<boolean> {
  const row = await db.selectFrom('bans').select('user_key').where('user_key', '=', identityKey(identity)).executeTakeFirst()
  return row !== undefined
}

export async function addBan (db: Db, identity: Identity, reason: string | null, bannedBy: string): Promise<void> {
  await db.insertInto('bans').values({ user_key: identityKey(identity), reason, banned_by: bannedBy })
    .onConflict((oc) => oc.column('user_key').doUpdateSet({ reason, banned_by: bannedBy })).execute()
}

export async function removeBan (db: Db, identity: Identity): Promise<boolean> {
  const result = await db.deleteFrom('bans').where('user_key', '=', identityKey(identity)).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

export interface NewReport {
  chatId: string
  reporter: Identity
  reported: Identity
  reason: string
  seq: number | null
  comment: string | null
}

/** Opens a report, or updates the reporter's open report on this chat; returns its id. */
export async function upsertReport (db: Db, report: NewReport, newId: string): Promise<string> {
  const row = await sql<{ id: string }>`
    insert into reports (id, chat_id, reporter_key, reported_key, reason, seq, comment)
    values (${newId}::uuid, ${report.chatId}::uuid, ${identityKey(report.reporter)}, ${identityKey(report.reported)},
      ${report.reason}, ${report.seq}, ${report.comment})
    on conflict (chat_id, reporter_key) where status = 'open'
    do update set reason = excluded.reason, seq = excluded.seq, comment = excluded.comment, updated_at = now()
    returning id`.execute(db)
  const id = row.rows[0]?.id
  if (id === undefined) throw new Error('report upsert returned no row')
  return id
}

export async function findReport (db: Db, id: string) {
  return await db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function listReports (db: Db, status: 'open' | 'resolved', limit: number, after: { createdAt: string, id: string } | null) {
  let query = db.selectFrom('reports').selectAll()
    .select(sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('created_micros'))
    .where('status', '=', status)
  if (after !== null) {
    query = query.where((eb) => eb.or([
      eb('created_at', '<', sql<Date>`${after.createdAt}::timestamptz`),
      eb.and([eb('created_at', '=', sql<Date>`${after.createdAt}::timestamptz`), eb('id', '>', after.id)])
    ]))
  }
  return await query.orderBy('created_at', 'desc').orderBy('id').limit(limit + 1).execute()
}

export async function resolveReport (db: Db, id: string, resolution: string, moderatorId: string) {
  return await db.updateTable('reports')
    .set({ status: 'resolved', resolution, resolved_by: moderatorId, resolved_at: sql`now()`, updated_at: sql`now()` })
    .where('id', '=', id).where('status', '=', 'open')
    .returningAll().executeTakeFirst()
}

export async function logModeratorRead (db: Db, moderatorId: string, chatId: string, what: string): Promise<void> {
  await db.insertInto('moderation_reads').values({ moderator_id: moderatorId, chat_id: chatId, what }).execute()
}
