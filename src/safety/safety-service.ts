// Owns what people and moderators do about abuse: blocking the other person, reporting a chat, and moderators' reads, resolutions and bans.
import { v4 as uuidv4, validate as isUuid } from 'uuid'
import { identityKey, identityFromKey, type Identity } from '../auth/identity.js'
import type { ChatEvents } from '../chat/chat-events.js'
import * as chats from '../chat/chat-repository.js'
import type { Db } from '../chat/chat-repository.js'
import { summarize, toMessage } from '../chat/chat-service.js'
import * as messages from '../chat/message-repository.js'
import { counterpartOf, roleIn } from '../chat/participants.js'
import type { ChatSummary, Message } from '../chat/schemas.js'
import type { ChatRow } from '../db/schema.js'
import { AppError, chatNotFound } from '../errors.js'
import { CLOSE_BANNED } from '../protocol/limits.js'
import type { SafetyEvents } from './safety-events.js'
import * as repo from './safety-repository.js'

export const MODERATOR_ROLE = 'chat_moderator'

export type ReportReason = 'spam' | 'scam' | 'abuse' | 'other'
export type ReportStatus = 'open' | 'resolved'

export interface ReportView {
  id: string
  chat_id: string
  reporter: { user_id: string, registered: boolean }
  reported: { user_id: string, registered: boolean }
  reason: string
  seq: number | null
  comment: string | null
  status: string
  resolution: string | null
  resolved_by: string | null
  created_at: string
}

export interface ModeratedMessage extends Message { flags: string[] }

export interface SafetyServiceDeps {
  db: Db
  chatEvents: ChatEvents
  safetyEvents: () => SafetyEvents
  /** Closes every socket of a person on every instance (the registry's closeUser). */
  closeUser: (userKey: string, code: number, reason: string) => Promise<void>
  log: { info: (obj: object, msg: string) => void }
}

const person = (identity: Identity): { user_id: string, registered: boolean } => ({ user_id: identity.userId, registered: identity.registered })
const iso = (value: Date | string | null): string | null => value === null ? null : new Date(value).toISOString()

export function isModerator (identity: Identity | null): boolean {
  return identity !== null && identity.registered && (identity.roles ?? []).includes(MODERATOR_ROLE)
}

function encodeCursor (createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify({ t: createdAt, id })).toString('base64url')
}

function decodeCursor (text: string): { createdAt: string, id: string } {
  const invalid = (): AppError => new AppError('validation_failed', 'cursor is not one this endpoint returned')
  let value: unknown
  try { value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) } catch { throw invalid() }
  const { t, id } = (value ?? {}) as { t?: unknown, id?: unknown }
  if (typeof t !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(t) || typeof id !== 'string' || !isUuid(id)) throw invalid()
  return { createdAt: t, id }
}

export class SafetyService {
  constructor (private readonly deps: SafetyServiceDeps) {}

  private get db (): Db { return this.deps.db }

  private async participant (identity: Identity, chatId: string): Promise<{ chat: ChatRow, role: 'buyer' | 'seller' }> {
    if (!isUuid(chatId)) throw chatNotFound()
    const chat = await chats.findChat(this.db, chatId)
    const role = chat === undefined ? null : roleIn(chat, identity)
    if (chat === undefined || role === null) throw chatNotFound()
    return { chat, role }
  }

  /** Blocks (or unblocks) the other person of this chat in every chat between the two; both sides' inboxes hear of each chat. */
  async setBlock (identity: Identity, chatId: string, on: boolean): Promise<ChatSummary> {
    const { chat, role } = await this.participant(identity, chatId)
    const changed = await repo.setBlock(this.db, identity, counterpartOf(chat, role), on)
    for (const row of changed) this.deps.chatEvents.chatChanged(row)
    const current = changed.find((row) => row.id === chat.id) ?? await chats.findChat(this.db, chat.id) ?? chat
    return summarize(current, role)
  }

  async report (identity: Identity, chatId: string, input: { reason: ReportReason, seq: number | null, comment: string | null }): Promise<{ id: string }> {
    const { chat, role } = await this.participant(identity, chatId)
    if (input.seq !== null && input.seq > chat.last_seq) throw new AppError('validation_failed', 'seq names no message of this chat')
    const reported = counterpartOf(chat, role)
    const id = await repo.upsertReport(this.db, { chatId: chat.id, reporter: identity, reported, ...input }, uuidv4())
    this.deps.safetyEvents().chatReported({ report_id: id, chat_id: chat.id, reporter: identity, reported, reason: input.reason, seq: input.seq, comment: input.comment })
    return { id }
  }

  async listReports (moderator: Identity, status: ReportStatus, limit: number, cursor: string | null): Promise<{ reports: ReportView[], next_cursor: string | null }> {
    const rows = await repo.listReports(this.db, status, limit, cursor === null ? null : decodeCursor(cursor))
    this.deps.log.info({ moderator: moderator.userId, status }, 'moderator listed reports')
    const page = rows.slice(0, limit)
    const last = page[page.length - 1]
    return {
      reports: page.map((row) => this.reportView(row)),
      next_cursor: rows.length > limit && last !== undefined ? encodeCursor(last.created_micros, last.id) : null
    }
  }

  private reportView (row: NonNullable<Awaited<ReturnType<typeof repo.findReport>>>): ReportView {
    return {
      id: row.id,
      chat_id: row.chat_id,
      reporter: person(identityFromKey(row.reporter_key)),
      reported: person(identityFromKey(row.reported_key)),
      reason: row.reason,
      seq: row.seq,
      comment: row.comment,
      status: row.status,
      resolution: row.resolution,
      resolved_by: row.resolved_by,
      created_at: iso(row.created_at) as string
    }
  }

  private async anyChat (moderator: Identity, chatId: string, what: string): Promise<ChatRow> {
    if (!isUuid(chatId)) throw chatNotFound()
    const chat = await chats.findChat(this.db, chatId)
    if (chat === undefined) throw chatNotFound()
    // Moderators read other people's conversations: every read leaves a trace, in the table and the log.
    await repo.logModeratorRead(this.db, moderator.userId, chatId, what)
    this.deps.log.info({ moderator: moderator.userId, chat: chatId, what }, 'moderator read a chat')
    return chat
  }

  /** Any chat, as its seller sees it. */
  async moderatedChat (moderator: Identity, chatId: string): Promise<ChatSummary> {
    return summarize(await this.anyChat(moderator, chatId, 'chat'), 'seller')
  }

  async moderatedMessages (moderator: Identity, chatId: string, page: { limit: number, beforeSeq: number | null }): Promise<{ messages: ModeratedMessage[], has_more: boolean }> {
    const chat = await this.anyChat(moderator, chatId, 'messages')
    const result = await messages.pageMessages(this.db, chat.id, { limit: page.limit, beforeSeq: page.beforeSeq, afterSeq: null, offset: null })
    return { messages: result.messages.map((row) => ({ ...toMessage(row, chat), flags: row.flags })), has_more: result.hasMore }
  }

  async resolveReport (moderator: Identity, reportId: string, action: 'dismiss' | 'ban'): Promise<ReportView> {
    if (!isUuid(reportId)) throw new AppError('not_found', 'Report not found')
    const report = await repo.findReport(this.db, reportId)
    if (report === undefined) throw new AppError('not_found', 'Report not found')
    if (action === 'ban') await this.ban(moderator, identityFromKey(report.reported_key), `report ${report.id}: ${report.reason}`)
    const resolved = await repo.resolveReport(this.db, reportId, action, moderator.userId) ?? report
    this.deps.log.info({ moderator: moderator.userId, report: reportId, action }, 'moderator resolved a report')
    return this.reportView(resolved)
  }

  /** Bans a person: every token of theirs is refused from now on, and their open sockets close on every instance. */
  async ban (moderator: Identity, target: Identity, reason: string | null): Promise<void> {
    await repo.addBan(this.db, target, reason, moderator.userId)
    this.deps.log.info({ moderator: moderator.userId, target: identityKey(target) }, 'moderator banned a person')
    await this.deps.closeUser(identityKey(target), CLOSE_BANNED, 'banned')
  }

  async unban (moderator: Identity, target: Identity): Promise<void> {
    if (!await repo.removeBan(this.db, target)) throw new AppError('not_found', 'No such ban')
    this.deps.log.info({ moderator: moderator.userId, target: identityKey(target) }, 'moderator lifted a ban')
  }
}
