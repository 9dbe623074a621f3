// Owns the chat domain: who may do what to which chat, and the one send path (sanitize → persist → report to ChatEvents) REST and WebSocket share.
import { v4 as uuidv4, validate as isUuid } from 'uuid'
import type { Identity } from '../auth/identity.js'
import type { ChatRow, MessageRow } from '../db/schema.js'
import { AppError, chatNotFound } from '../errors.js'
import type { Logger } from '../logger.js'
import type { ChatEvents } from './chat-events.js'
import { openGuard, type ChatGuard } from './chat-guard.js'
import * as chats from './chat-repository.js'
import type { Db } from './chat-repository.js'
import { accessTo, roleIn, type ChatAccess, type Role } from './participants.js'
import { assertListingAllowsChat, type ListingLookup } from './listing-lookup.js'
import * as messages from './message-repository.js'
import { claimGuestChats, isClaimedGuest, lockGuest, type ClaimOutcome } from './claim-repository.js'
import { SendBatcher, type SendBatcherOptions } from './send-batcher.js'
import { cleanCaption, cleanMessageText } from './sanitize.js'
import { assertStorableId } from './storable-text.js'
import type { ChatSummary, ListingDetails, Message, ReadState, UnreadCount } from './schemas.js'
import { listingColumns, NO_DETAILS, storeListingDetails } from './listing-details.js'
import type { MessageAttachments } from '../attachments/attachment-service.js'
import { SummaryCache, type CachedSummary } from './summary-cache.js'

const PREVIEW_LENGTH = 140
/** The chat's last message when a message is photos only. */
export const PHOTO_PREVIEW = '📷 Photo'

export interface ChatServiceDeps {
  db: Db
  /** Told of every committed change: broker fan-out, metrics, and whatever else reacts to chats (see chat-events.ts). */
  events: ChatEvents
  listingLookup: ListingLookup | null
  /** How old a chat's listing details may get before opening the chat asks the lookup again (LISTING_LOOKUP_CACHE_SECONDS). */
  listingDetailsMaxAgeSeconds?: number
  log: Pick<Logger, 'warn'>
  /** How sends are grouped into statements (see SendBatcher). */
  sendBatch: SendBatcherOptions
  /** Asked before a chat is created or a message stored (blocks, spam limits, contact filter); default: no checks. */
  guard?: ChatGuard
  /** Photo attachments (claimed before a send joins a batch, listed on every message read); absent: text only. */
  attachments?: MessageAttachments
  /** The grouped inbox's printed summaries; default: one of SUMMARY_CACHE_BYTES for this service. */
  summaryCache?: SummaryCache
}

/** About 20,000 summaries of a typical size: the inboxes of the sellers who read theirs most, held as UTF-8 JSON. */
export const SUMMARY_CACHE_BYTES = 16 * 1024 * 1024

export interface HistoryPage {
  limit: number
  beforeSeq?: number | null
  afterSeq?: number | null
  offset?: number | null
}

export interface SendResult {
  message: Message
  /** True when client_message_id was already used: the original is returned and nothing new is stored. */
  duplicate: boolean
}

const iso = (date: Date | string | null): string | null =>
  date === null || typeof date === 'string' ? date : new Date(date).toISOString()

function preview (text: string): string {
  const chars = [...text]
  return chars.length <= PREVIEW_LENGTH ? text : `${chars.slice(0, PREVIEW_LENGTH - 1).join('')}…`
}

export function summarize (chat: ChatRow | chats.SummaryRow, role: Role): ChatSummary {
  const mine = role === 'seller' ? chat.seller_last_read_seq : chat.buyer_last_read_seq
  const other = role === 'seller' ? chat.buyer_last_read_seq : chat.seller_last_read_seq
  return {
    id: chat.id,
    listing_id: chat.listing_id,
    seller_id: chat.seller_id,
    buyer_id: chat.buyer_id,
    buyer_is_registered: chat.buyer_is_registered,
    buyer_label: chat.buyer_label === null ? null : `Buyer ${chat.buyer_label}`,
    role,
    counterpart_id: role === 'seller' ? chat.buyer_id : chat.seller_id,
    last_seq: chat.last_seq,
    my_last_read_seq: mine,
    other_last_read_seq: other,
    unread_count: Math.max(0, chat.last_seq - mine),
    last_message: chat.last_message_text,
    last_message_sender_id: chat.last_message_sender_id,
    last_message_time: iso(chat.last_message_at),
    created_at: iso(chat.created_at) as string,
    updated_at: iso(chat.updated_at) as string,
    buyer_number: chat.buyer_label,
    buyer_display_name: chat.buyer_display_name,
    seller_display_name: chat.seller_display_name,
    listing: {
      title: chat.listing_title,
      price: chat.listing_price,
      currency: chat.listing_currency,
      image_url: chat.listing_image_url,
      url: chat.listing_url
    },
    blocked_by_me: role === 'seller' ? chat.blocked_by_seller : chat.blocked_by_buyer,
    blocked_by_other: role === 'seller' ? chat.blocked_by_buyer : chat.blocked_by_seller
  }
}

/** A chat as the grouped inbox prints it (see SummaryCache): the seller's summary as JSON, and what its group adds up. */
export function printSummary (row: chats.SummaryRow & { version: string }): CachedSummary {
  const summary = summarize(row, 'seller')
  const json = JSON.stringify(summary)
  return {
    version: row.version,
    json,
    bytes: Buffer.byteLength(json),
    unread: row.blocked_by_seller ? 0 : summary.unread_count,
    groupTime: summary.last_message_time ?? summary.created_at
  }
}

const COMMA = 0x2c
const CLOSE_BRACKET = 0x5d
const CLOSE_BRACE = 0x7d

/**
 * The grouped inbox's JSON array as UTF-8, between `before` and `after` (a page's other fields): `entries` newest
 * first, `printed[i]` the summary of `entries[i]` (undefined: the chat is gone, and left out). A listing's group sits
 * where its first (newest) chat is. The bytes are what JSON.stringify prints for the ListingGroup objects, encoded,
 * written into one buffer sized from the summaries' byte lengths, measured once when printed. Built as one string
 * instead, the 1.5 MB answer of 2,000 chats was flattened and measured (content-length) and then encoded again by the
 * socket write: ~4 of its ~7.5 ms of CPU.
 */
export function groupedJson (entries: chats.InboxEntry[], printed: Array<CachedSummary | undefined>, before = '', after = ''): Buffer {
  const groups = new Map<string, { unread: number, time: string, chats: CachedSummary[] }>()
  entries.forEach((entry, i) => {
    const summary = printed[i]
    if (summary === undefined) return
    const group = groups.get(entry.listing_id)
    if (group === undefined) {
      groups.set(entry.listing_id, { unread: summary.unread, time: summary.groupTime, chats: [summary] })
    } else {
      group.unread += summary.unread
      group.chats.push(summary)
    }
  })
  // Each group is its head (up to the chats' opening bracket), its chats with a comma between, then `]}`.
  const heads: string[] = []
  let length = Buffer.byteLength(before) + Buffer.byteLength(after) + (groups.size === 0 ? 2 : 1)
  for (const [listingId, group] of groups) {
    const head = `${heads.length === 0 ? '[' : ','}{"listing_id":${JSON.stringify(listingId)},"unread_count":${group.unread},"last_message_time":${JSON.stringify(group.time)},"chats":[`
    heads.push(head)
    length += Buffer.byteLength(head) + group.chats.length - 1 + 2
    for (const chat of group.chats) length += chat.bytes
  }
  const out = Buffer.allocUnsafe(length)
  let at = out.write(before)
  if (groups.size === 0) at += out.write('[', at)
  let g = 0
  for (const group of groups.values()) {
    at += out.write(heads[g++] as string, at)
    group.chats.forEach((chat, i) => {
      if (i > 0) out[at++] = COMMA
      at += out.write(chat.json, at)
    })
    out[at++] = CLOSE_BRACKET
    out[at++] = CLOSE_BRACE
  }
  out[at++] = CLOSE_BRACKET
  at += out.write(after, at)
  // allocUnsafe: a byte left unwritten would send old memory
  if (at !== length) throw new Error(`grouped inbox: wrote ${at} of ${length} bytes`)
  return out
}

// Opaque to clients; base64url JSON so it survives a query string untouched. Checked fully: it reaches SQL as values.
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/

export function encodeGroupCursor (cursor: chats.GroupCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.activityAt, id: cursor.chatId })).toString('base64url')
}

export function decodeGroupCursor (text: string): chats.GroupCursor {
  const invalid = (): AppError => new AppError('validation_failed', 'cursor is not one this endpoint returned')
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    throw invalid()
  }
  if (typeof value !== 'object' || value === null) throw invalid()
  const { t, id } = value as { t?: unknown, id?: unknown }
  if (typeof t !== 'string' || !CURSOR_TIME.test(t) || Number.isNaN(Date.parse(t.slice(0, 23) + 'Z'))) throw invalid()
  if (typeof id !== 'string' || !isUuid(id)) throw invalid()
  return { activityAt: t, chatId: id }
}

/** A message as clients see it; is_read follows the recipient's read pointer. */
export function toMessage (row: MessageRow | messages.StoredMessage, chat: Pick<ChatRow, 'seller_id' | 'seller_last_read_seq' | 'buyer_last_read_seq'>): Message {
  const fromSeller = row.sender_is_registered && row.sender_id === chat.seller_id
  const recipientRead = fromSeller ? chat.buyer_last_read_seq : chat.seller_last_read_seq
  return {
    id: row.id,
    chat_id: row.chat_id,
    seq: row.seq,
    sender_id: row.sender_id,
    sender_is_registered: row.sender_is_registered,
    message_text: row.message_text,
    client_message_id: row.client_message_id,
    created_at: iso(row.created_at) as string,
    is_read: recipientRead >= row.seq
  }
}

export interface ClaimResult {
  buyer_id: string
  /** Guest chats now the user's (moved or merged). */
  claimed: number
  /** Of those, how many were merged into a chat the user already had (their ids no longer exist). */
  merged: number
  /** The user's chats that the claim changed, as the buyer sees them. */
  chats: ChatSummary[]
  /** Where each merged guest chat went. */
  merges: Array<{ from_chat_id: string, to_chat_id: string }>
}

const CLAIM_ATTEMPTS = 3

export class ChatService {
  private readonly sends: SendBatcher
  private readonly summaries: SummaryCache

  constructor (private readonly deps: ChatServiceDeps) {
    this.sends = new SendBatcher(deps.db, deps.sendBatch)
    this.summaries = deps.summaryCache ?? new SummaryCache(SUMMARY_CACHE_BYTES)
  }

  private get db (): Db { return this.deps.db }
  private get guard (): ChatGuard { return this.deps.guard ?? openGuard }

  /** The caller's access to a chat (who they are in it, who the two are); a missing chat and someone else's chat are indistinguishable. */
  async participantChat (identity: Identity, chatId: string): Promise<ChatAccess> {
    const { chat, role } = await this.participantRow(identity, chatId)
    return accessTo(chat, role)
  }

  private async participantRow (identity: Identity, chatId: string): Promise<{ chat: ChatRow, role: Role }> {
    // A malformed id names no chat; answering like any other missing chat keeps outsiders guessing.
    if (!isUuid(chatId)) throw chatNotFound()
    const chat = await chats.findChat(this.db, chatId)
    const role = chat === undefined ? null : roleIn(chat, identity)
    if (chat === undefined || role === null) throw chatNotFound()
    return { chat, role }
  }

  async openChat (identity: Identity, listingId: string, sellerId: string): Promise<{ chat: ChatSummary, created: boolean }> {
    assertStorableId(listingId, 'listing_id')
    assertStorableId(sellerId, 'seller_id')
    if (identity.registered && identity.userId === sellerId) {
      throw new AppError('cannot_chat_with_self', 'You cannot open a chat with yourself')
    }
    const existing = await chats.findChatByKey(this.db, listingId, sellerId, identity)
    if (existing !== undefined) {
      // Opening a chat you hid is asking for it back.
      const visible = existing.buyer_hidden ? await chats.setHidden(this.db, existing.id, 'buyer', false) ?? existing : existing
      const current = await this.refreshListingDetails(await this.rememberName(visible, 'buyer', identity))
      return { chat: this.summaryForCaller(current, identity), created: false }
    }

    const flags = await this.guard.beforeNewChat(identity, sellerId)
    let details: ListingDetails = NO_DETAILS
    if (this.deps.listingLookup !== null) {
      const info = await this.deps.listingLookup(listingId)
      assertListingAllowsChat(info, sellerId)
      details = info.details ?? NO_DETAILS
    }
    const inserted = await this.db.transaction().execute(async (tx) => {
      if (!identity.registered) {
        // A claim committed since this request's token check must not get a guest chat created behind its back.
        await lockGuest(tx, identity.userId)
        if (await isClaimedGuest(tx, identity.userId)) throw new AppError('token_claimed', 'This guest session was claimed by an account; sign in to continue')
      }
      const label = identity.registered ? null : await chats.buyerLabel(tx, sellerId, identity.userId)
      return await chats.insertChatIfAbsent(tx, {
        id: uuidv4(),
        listing_id: listingId,
        seller_id: sellerId,
        buyer_id: identity.userId,
        buyer_is_registered: identity.registered,
        buyer_label: label,
        buyer_display_name: identity.displayName ?? null,
        // Only from the marketplace's answer: a buyer must never choose what the seller sees about the listing.
        ...(this.deps.listingLookup === null ? {} : listingColumns(details)),
        blocked_by_seller: flags.blockedBySeller,
        blocked_by_buyer: flags.blockedByBuyer
      })
    })
    if (inserted === undefined) {
      // A concurrent request created it between our read and our insert: theirs is the chat.
      const winner = await chats.findChatByKey(this.db, listingId, sellerId, identity)
      if (winner === undefined) throw new Error('chat vanished after a create conflict')
      return { chat: this.summaryForCaller(winner, identity), created: false }
    }
    this.deps.events.chatChanged(inserted)
    return { chat: summarize(inserted, 'buyer'), created: true }
  }

  /**
   * Asks the lookup again when the chat's listing details are older than LISTING_LOOKUP_CACHE_SECONDS, and keeps the
   * answer on every chat of that listing and seller. Best effort: a lookup that fails leaves the details as they were.
   */
  private async refreshListingDetails (chat: ChatRow): Promise<ChatRow> {
    const lookup = this.deps.listingLookup
    if (lookup === null) return chat
    const maxAgeMs = (this.deps.listingDetailsMaxAgeSeconds ?? 60) * 1000
    if (chat.listing_fetched_at !== null && Date.now() - new Date(chat.listing_fetched_at).getTime() < maxAgeMs) return chat
    try {
      const info = await lookup(chat.listing_id)
      if (!info.exists || (info.sellerId !== null && info.sellerId !== chat.seller_id)) return chat
      const details = info.details ?? NO_DETAILS
      await storeListingDetails(this.db, chat.listing_id, chat.seller_id, details)
      return { ...chat, ...listingColumns(details) }
    } catch (error) {
      this.deps.log.warn({ err: error, listing_id: chat.listing_id }, 'could not refresh listing details; showing the last known')
      return chat
    }
  }

  /** Keeps the side's latest name from their token; a write only when it changed. */
  private async rememberName<T extends ChatRow | chats.ChatListRow> (chat: T, role: Role, identity: Identity): Promise<T> {
    const name = identity.displayName ?? null
    const stored = role === 'seller' ? chat.seller_display_name : chat.buyer_display_name
    if (name === null || name === stored) return chat
    await chats.setDisplayName(this.db, chat.id, role, name)
    return role === 'seller' ? { ...chat, seller_display_name: name } : { ...chat, buyer_display_name: name }
  }

  private summaryForCaller (chat: ChatRow, identity: Identity): ChatSummary {
    const role = roleIn(chat, identity)
    if (role === null) throw chatNotFound()
    return summarize(chat, role)
  }

  async getChat (identity: Identity, chatId: string): Promise<ChatSummary> {
    const { chat, role } = await this.participantRow(identity, chatId)
    return summarize(await this.rememberName(chat, role, identity), role)
  }

  async listMyChats (identity: Identity, options: chats.ListOptions): Promise<{ chats: ChatSummary[], total: number }> {
    const { rows, total } = await chats.listChats(this.db, identity, options)
    return { chats: rows.map((row) => this.summaryForCaller(row, identity)), total }
  }

  /**
   * The seller's inbox grouped by listing, as UTF-8 JSON. Without a page: every group, the shape the endpoint always
   * had; with one: `{"groups","next_cursor","total_chats","total_listings"}`.
   */
  async groupedInbox (identity: Identity, sellerId: string, page: { limit: number, cursor: string | null } | null = null, filter: chats.InboxFilter = { includeBlocked: false }): Promise<Buffer> {
    if (!identity.registered || identity.userId !== sellerId) {
      throw new AppError('forbidden', "Only the seller can read this seller's inbox")
    }
    if (page === null) return await this.printGroups(sellerId, await chats.sellerInboxEntries(this.db, sellerId, filter))
    const after = page.cursor === null ? null : decodeGroupCursor(page.cursor)
    const result = await chats.sellerInboxPage(this.db, sellerId, page.limit, after, filter)
    const next = result.next === null ? null : encodeGroupCursor(result.next)
    return await this.printGroups(sellerId, result.chats, '{"groups":',
      `,"next_cursor":${JSON.stringify(next)},"total_chats":${result.totalChats},"total_listings":${result.totalListings}}`)
  }

  /**
   * The groups of these chats, each summary from the cache when the chat's row is still the version it was printed
   * from; the others are read by a second statement (read committed: a chat changed in between shows as it is then).
   * A warm 2,000-chat inbox thus costs ids and versions instead of 46,000 column values and their printing.
   */
  private async printGroups (sellerId: string, entries: chats.InboxEntry[], before = '', after = ''): Promise<Buffer> {
    const printed = entries.map((entry) => this.summaries.get(entry.id, entry.version))
    const missing = entries.filter((_, i) => printed[i] === undefined).map((entry) => entry.id)
    if (missing.length > 0) {
      const fresh = new Map<string, CachedSummary>()
      for (const row of await chats.summaryRows(this.db, sellerId, missing)) {
        const summary = printSummary(row)
        this.summaries.set(row.id, summary)
        fresh.set(row.id, summary)
      }
      entries.forEach((entry, i) => { printed[i] ??= fresh.get(entry.id) })
    }
    return groupedJson(entries, printed, before, after)
  }

  async history (identity: Identity, chatId: string, page: HistoryPage): Promise<{ messages: Message[], has_more: boolean }> {
    const { chatId: checked } = await this.participantChat(identity, chatId)
    return await this.historyOf(checked, page)
  }

  /** History for a chat whose participant check is already done (a socket checked it at the handshake). */
  async historyOf (chatId: string, page: HistoryPage): Promise<{ messages: Message[], has_more: boolean }> {
    // Read pointers are read with the page so is_read is current, not as of the handshake.
    const [pointers, result] = await Promise.all([
      chats.findChat(this.db, chatId),
      messages.pageMessages(this.db, chatId, {
        limit: page.limit,
        beforeSeq: page.beforeSeq ?? null,
        afterSeq: page.afterSeq ?? null,
        offset: page.offset ?? null
      })
    ])
    // Chats are never deleted, so a checked chat is always found.
    if (pointers === undefined) throw chatNotFound()
    return { messages: await this.withAttachments(result.messages.map((row) => toMessage(row, pointers))), has_more: result.hasMore }
  }

  // Every read signs the URLs anew, so a page fetched again always carries URLs valid for the full TTL.
  private async withAttachments (list: Message[]): Promise<Message[]> {
    if (this.deps.attachments === undefined || list.length === 0) return list
    const refs = await this.deps.attachments.refsFor(list.map((m) => m.id))
    return list.map((m) => {
      const attachments = refs.get(m.id)
      return attachments === undefined ? m : { ...m, attachments }
    })
  }

  async sendMessage (identity: Identity, chatId: string, text: string, clientMessageId: string | null, origin: string | null = null,
    attachmentIds: readonly string[] = []): Promise<SendResult> {
    if (!isUuid(chatId)) throw chatNotFound()
    // Checked before the message joins a batch: what the database cannot store must fail this send alone.
    if (clientMessageId !== null) assertStorableId(clientMessageId, 'client_message_id')
    if (attachmentIds.length > 0 && this.deps.attachments === undefined) {
      throw new AppError('attachment_not_found', 'This service does not take attachments')
    }
    const withPhotos = attachmentIds.length > 0
    const checked = await this.guard.beforeSend(identity, chatId, withPhotos ? cleanCaption(text) : cleanMessageText(text))
    const id = uuidv4()
    let attachments: Message['attachments']
    if (withPhotos) {
      // A resend of a stored message finds its photos already used: it gets the original, like any retried send.
      if (clientMessageId !== null && await messages.findByClientMessageId(this.db, chatId, identity, clientMessageId) !== undefined) {
        return await this.originalOf(identity, chatId, clientMessageId)
      }
      // Claimed before the batch: someone else's, used or unknown photos fail this send alone.
      attachments = await (this.deps.attachments as MessageAttachments).claim(identity, chatId, id, attachmentIds)
    }
    let outcome: Awaited<ReturnType<SendBatcher['submit']>>
    try {
      outcome = await this.sends.submit({
        id,
        chatId,
        senderId: identity.userId,
        senderIsRegistered: identity.registered,
        text: checked.text,
        preview: checked.text === '' && withPhotos ? PHOTO_PREVIEW : preview(checked.text),
        clientMessageId,
        flags: checked.flags
      })
    } catch (error) {
      if (withPhotos) await this.releaseQuietly(id)
      throw error
    }
    if (outcome.kind !== 'stored' && withPhotos) await this.releaseQuietly(id)
    if (outcome.kind === 'not-found') throw chatNotFound()
    if (outcome.kind === 'blocked') throw new AppError('blocked', 'The other person has blocked you; your message was not sent')
    if (outcome.kind === 'duplicate') return await this.originalOf(identity, chatId, clientMessageId as string)
    const stored = toMessage(outcome.message, outcome.chat)
    const message = attachments === undefined ? stored : { ...stored, attachments }
    this.deps.events.messageStored({ message, chat: outcome.chat, sender: identity, origin })
    // Rarely a write: only when the sender's token carries a name the chat does not have yet.
    const role = roleIn(outcome.chat, identity) ?? 'buyer'
    const named = await this.rememberName(outcome.chat, role, identity).catch((error: unknown) => {
      this.deps.log.warn({ err: error }, 'could not remember a display name; the message is stored')
      return outcome.chat
    })
    this.deps.events.chatChanged(named)
    return { message, duplicate: false }
  }

  private async originalOf (identity: Identity, chatId: string, clientMessageId: string): Promise<SendResult> {
    const { chat } = await this.participantRow(identity, chatId)
    const original = await messages.findByClientMessageId(this.db, chatId, identity, clientMessageId)
    if (original === undefined) throw new Error('client_message_id conflict without an original message')
    const [message] = await this.withAttachments([toMessage(original, chat)])
    return { message: message as Message, duplicate: true }
  }

  private async releaseQuietly (messageId: string): Promise<void> {
    try {
      await this.deps.attachments?.release(messageId)
    } catch (error) {
      // The sweep frees claims whose message never appeared; the send's own error is what the client needs.
      this.deps.log.warn({ err: error, messageId }, 'could not release attachments of an unsent message')
    }
  }

  async markRead (identity: Identity, chatId: string, upToSeq: number | null): Promise<ReadState> {
    const { role, chat: before } = await this.participantRow(identity, chatId)
    const chat = await chats.advanceReadPointer(this.db, chatId, role, upToSeq)
    if (chat === undefined) throw chatNotFound()
    const lastRead = role === 'seller' ? chat.seller_last_read_seq : chat.buyer_last_read_seq
    const previous = role === 'seller' ? before.seller_last_read_seq : before.buyer_last_read_seq
    // Re-reading what was already read changes nothing anyone sees, so it publishes nothing.
    if (lastRead !== previous) {
      this.deps.events.readAdvanced({ chat, reader: identity, role, lastReadSeq: lastRead })
      this.deps.events.chatChanged(chat)
    }
    return { chat_id: chatId, user_id: identity.userId, last_read_seq: lastRead }
  }

  async hideChat (identity: Identity, chatId: string): Promise<void> {
    const { role } = await this.participantRow(identity, chatId)
    await chats.setHidden(this.db, chatId, role, true)
  }

  /**
   * Makes every chat of the guest the user's, in one transaction (see claimGuestChats). The same user claiming again
   * changes nothing; another user gets already_claimed. A deadlock with a send batch, or the user opening a chat on the
   * same listing meanwhile (a key the move then collides with), rolls everything back and the claim runs again.
   */
  async claimGuest (user: Identity, guest: Identity, displayName: string | null = null): Promise<ClaimResult> {
    if (!user.registered) throw new AppError('forbidden', 'Sign in with a marketplace account to claim guest chats')
    if (guest.registered) throw new AppError('bad_request', 'anonymous_token must be a guest token from POST /api/chat/anonymous')
    let outcome: ClaimOutcome
    for (let attempt = 1; ; attempt++) {
      try {
        outcome = await this.db.transaction().execute(async (tx) =>
          await claimGuestChats(tx, guest.userId, { userId: user.userId, displayName }))
        break
      } catch (error) {
        const retryable = messages.isDeadlock(error) || messages.isUniqueViolation(error, 'chats_listing_seller_buyer_kind_key')
        if (!retryable || attempt >= CLAIM_ATTEMPTS) throw error
      }
    }
    if (outcome.kind === 'taken') throw new AppError('already_claimed', 'Another account already claimed this guest session')
    if (outcome.kind === 'repeat') return { buyer_id: user.userId, claimed: 0, merged: 0, chats: [], merges: [] }
    const { moved, merged } = outcome
    this.deps.events.guestClaimed({ guest, user, moved, merged })
    return {
      buyer_id: user.userId,
      claimed: moved.length + merged.length,
      merged: merged.length,
      chats: [...moved, ...merged.map((m) => m.chat)].map((chat) => summarize(chat, 'buyer')),
      merges: merged.map((m) => ({ from_chat_id: m.fromChatId, to_chat_id: m.chat.id }))
    }
  }

  async unreadCount (identity: Identity): Promise<UnreadCount> {
    return await chats.unreadTotals(this.db, identity)
  }

  async counterparts (identity: Identity): Promise<Identity[]> {
    return await chats.counterpartKeys(this.db, identity)
  }
}
