// Owns attachment rows: recording an upload, claiming uploads for a message (once), loading a page's attachments, and finding unused ones to sweep.
import { sql } from 'kysely'
import type { Db } from '../chat/chat-repository.js'
import type { AttachmentRow, AttachmentsTable } from '../db/schema.js'
import type { Insertable } from 'kysely'

export async function insertAttachment (db: Db, row: Insertable<AttachmentsTable>): Promise<void> {
  await db.insertInto('attachments').values(row).execute()
}

export async function findAttachment (db: Db, id: string): Promise<AttachmentRow | undefined> {
  return await db.selectFrom('attachments').selectAll().where('id', '=', id).executeTakeFirst()
}

/**
 * Marks the caller's unused uploads of this chat as used by messageId, in the order given; returns the rows claimed.
 * One conditional UPDATE, so two sends racing for one upload cannot both get it.
 */
export async function claimAttachments (db: Db, ids: readonly string[], chatId: string, uploaderKey: string, messageId: string): Promise<AttachmentRow[]> {
  const rows = await db.updateTable('attachments')
    .set({
      message_id: messageId,
      position: sql<number>`array_position(${sql.val([...ids])}::uuid[], id)`,
      claimed_at: sql<Date>`now()`
    })
    .where('id', 'in', [...ids])
    .where('chat_id', '=', chatId)
    .where('uploader_key', '=', uploaderKey)
    .where('message_id', 'is', null)
    .returningAll()
    .execute()
  return rows.sort((a, b) => (a.position ?? 0) - (b.position ?? 0))
}

export async function releaseAttachments (db: Db, messageId: string): Promise<void> {
  await db.updateTable('attachments').set({ message_id: null, position: null, claimed_at: null })
    .where('message_id', '=', messageId).execute()
}

export async function attachmentsOfMessages (db: Db, messageIds: readonly string[]): Promise<AttachmentRow[]> {
  if (messageIds.length === 0) return []
  return await db.selectFrom('attachments').selectAll()
    .where('message_id', 'in', [...messageIds])
    .orderBy('message_id').orderBy('position')
    .execute()
}

/**
 * Uploads older than the cutoff that no message uses: never claimed, or claimed by a send whose message was never
 * stored (the process died between the claim and the insert) before the cutoff too.
 */
export async function unusedBefore (db: Db, cutoff: Date, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('attachments as a').select('a.id')
    .where('a.created_at', '<', cutoff)
    .where((eb) => eb.or([
      eb('a.message_id', 'is', null),
      eb.and([
        eb('a.claimed_at', '<', cutoff),
        eb.not(eb.exists(eb.selectFrom('messages as m').select('m.id').whereRef('m.id', '=', 'a.message_id')))
      ])
    ]))
    .limit(limit)
    .execute()
  return rows.map((row) => row.id)
}

export async function deleteAttachments (db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return
  await db.deleteFrom('attachments').where('id', 'in', [...ids]).execute()
}
