// Owns the chat domain: who may do what to which chat, and the one send path (sanitize → persist → publish) REST and WebSocket share.
import { v4 as uuidv4, validate as isUuid } from 'uuid'
import { identityKey, type Identity } from '../auth/identity.js'
import type { ChatRow, MessageRow } from '../db/schema.js'
import { AppError, chatNotFound } from '../errors.js'
import type { Broker, ChatEvent, UserEvent } from '../realtime/broker.js'
import * as chats from './chat-repository.js'
import type { Db, Role } from './chat-repository.js'
import { assertListingAllowsChat, type ListingLookup } from './listing-lookup.js'
import * as messages from './message-repository.js'
import { SendBatcher, type SendBatcherOptions } from './send-batcher.js'
import { cleanMessageText } from './sanitize.js'
import type { ChatSummary, ListingGroup, Message, ReadState, UnreadCount } from './schemas.js'

const PREVIEW_LENGTH = 140

export interface ServiceLogger {
  warn: (obj: object, msg: string) => void
}

export interface ChatServiceDeps {
  db: Db
  broker: Broker
  listingLookup: ListingLookup | null
  log: ServiceLogger
  /** How sends are grouped into statements (see SendBatcher). */
  sendBatch: SendBatcherOptions
  /** Called once per newly stored message (metrics). */
  onMessageStored?: () => void
}

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

export function buyerKey (chat: Pick<ChatRow, 'buyer_id' | 'buyer_is_registered'>): string {
  return identityKey({ userId: chat.buyer_id, registered: chat.buyer_is_registered })
}

export function sellerKey (chat: Pick<ChatRow, 'seller_id'>): string {
  return identityKey({ userId: chat.seller_id, registered: true })
}

export function summarize (chat: ChatRow | chats.ChatListRow, role: Role): ChatSummary {
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
    updated_at: iso(chat.updated_at) as string
  }
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

export class ChatService {
  private readonly sends: SendBatcher

  constructor (private readonly deps: ChatServiceDeps) {
    this.sends = new SendBatcher(deps.db, deps.sendBatch)
  }

  private get db (): Db { return this.deps.db }

  /** The chat and the caller's side of it; a missing chat and someone else's chat are indistinguishable. */
  async participantChat (identity: Identity, chatId: string): Promise<{ chat: ChatRow, role: Role }> {
    // A malformed id names no chat; answering like any other missing chat keeps outsiders guessing.
    if (!isUuid(chatId)) throw chatNotFound()
    const chat = await chats.findChat(this.db, chatId)
    const role = chat === undefined ? null : chats.roleIn(chat, identity)
    if (chat === undefined || role === null) throw chatNotFound()
    return { chat, role }
  }

  async openChat (identity: Identity, listingId: string, sellerId: string): Promise<{ chat: ChatSummary, created: boolean }> {
    if (identity.registered && identity.userId === sellerId) {
      throw new AppError('cannot_chat_with_self', 'You cannot open a chat with yourself')
    }
    const existing = await chats.findChatByKey(this.db, listingId, sellerId, identity.userId)
    if (existing !== undefined) {
      // Opening a chat you hid is asking for it back.
      const visible = existing.buyer_hidden ? await chats.setHidden(this.db, existing.id, 'buyer', false) ?? existing : existing
      return { chat: this.summaryForCaller(visible, identity), created: false }
    }

    if (this.deps.listingLookup !== null) {
      assertListingAllowsChat(await this.deps.listingLookup(listingId), sellerId)
    }
    const inserted = await this.db.transaction().execute(async (tx) => {
      const label = identity.registered ? null : await chats.buyerLabel(tx, sellerId, identity.userId)
      return await chats.insertChatIfAbsent(tx, {
        id: uuidv4(),
        listing_id: listingId,
        seller_id: sellerId,
        buyer_id: identity.userId,
        buyer_is_registered: identity.registered,
        buyer_label: label
      })
    })
    if (inserted === undefined) {
      // A concurrent request created it between our read and our insert: theirs is the chat.
      const winner = await chats.findChatByKey(this.db, listingId, sellerId, identity.userId)
      if (winner === undefined) throw new Error('chat vanished after a create conflict')
      return { chat: this.summaryForCaller(winner, identity), created: false }
    }
    this.publishChatUpdated(inserted)
    return { chat: summarize(inserted, 'buyer'), created: true }
  }

  private summaryForCaller (chat: ChatRow, identity: Identity): ChatSummary {
    const role = chats.roleIn(chat, identity)
    if (role === null) throw chatNotFound()
    return summarize(chat, role)
  }

  async getChat (identity: Identity, chatId: string): Promise<ChatSummary> {
    const { chat, role } = await this.participantChat(identity, chatId)
    return summarize(chat, role)
  }

  async listMyChats (identity: Identity, options: chats.ListOptions): Promise<{ chats: ChatSummary[], total: number }> {
    const { rows, total } = await chats.listChats(this.db, identity, options)
    return { chats: rows.map((row) => this.summaryForCaller(row, identity)), total }
  }

  async groupedInbox (identity: Identity, sellerId: string): Promise<ListingGroup[]> {
    if (!identity.registered || identity.userId !== sellerId) {
      throw new AppError('forbidden', "Only the seller can read this seller's inbox")
    }
    const rows = await chats.listSellerChats(this.db, sellerId)
    // Rows arrive newest first, so each group's first chat is its latest activity and Map order is group order.
    const groups = new Map<string, ListingGroup>()
    for (const row of rows) {
      const summary = summarize(row, 'seller')
      let group = groups.get(row.listing_id)
      if (group === undefined) {
        group = { listing_id: row.listing_id, unread_count: 0, last_message_time: summary.last_message_time ?? summary.created_at, chats: [] }
        groups.set(row.listing_id, group)
      }
      group.unread_count += summary.unread_count
      group.chats.push(summary)
    }
    return [...groups.values()]
  }

  async history (identity: Identity, chatId: string, page: HistoryPage): Promise<{ messages: Message[], has_more: boolean }> {
    const { chat } = await this.participantChat(identity, chatId)
    return await this.historyOf(chat, page)
  }

  /** History for a chat whose participant check is already done (a socket checked it at the handshake). */
  async historyOf (chat: ChatRow, page: HistoryPage): Promise<{ messages: Message[], has_more: boolean }> {
    // Read pointers are re-read with the page so is_read is current, not as of the handshake.
    const [current, result] = await Promise.all([
      chats.findChat(this.db, chat.id),
      messages.pageMessages(this.db, chat.id, {
        limit: page.limit,
        beforeSeq: page.beforeSeq ?? null,
        afterSeq: page.afterSeq ?? null,
        offset: page.offset ?? null
      })
    ])
    const pointers = current ?? chat
    return { messages: result.messages.map((row) => toMessage(row, pointers)), has_more: result.hasMore }
  }

  async sendMessage (identity: Identity, chatId: string, text: string, clientMessageId: string | null, origin: string | null = null): Promise<SendResult> {
    if (!isUuid(chatId)) throw chatNotFound()
    const clean = cleanMessageText(text)
    const outcome = await this.sends.submit({
      id: uuidv4(),
      chatId,
      senderId: identity.userId,
      senderIsRegistered: identity.registered,
      text: clean,
      preview: preview(clean),
      clientMessageId
    })
    if (outcome.kind === 'not-found') throw chatNotFound()
    if (outcome.kind === 'duplicate') return await this.originalOf(identity, chatId, clientMessageId as string)
    this.deps.onMessageStored?.()
    const message = toMessage(outcome.message, outcome.chat)
    this.publish('chat', chatId, { type: 'message', message, origin })
    this.publishChatUpdated(outcome.chat)
    return { message, duplicate: false }
  }

  private async originalOf (identity: Identity, chatId: string, clientMessageId: string): Promise<SendResult> {
    const { chat } = await this.participantChat(identity, chatId)
    const original = await messages.findByClientMessageId(this.db, chatId, identity.userId, clientMessageId)
    if (original === undefined) throw new Error('client_message_id conflict without an original message')
    return { message: toMessage(original, chat), duplicate: true }
  }

  async markRead (identity: Identity, chatId: string, upToSeq: number | null): Promise<ReadState> {
    const { role, chat: before } = await this.participantChat(identity, chatId)
    const chat = await chats.advanceReadPointer(this.db, chatId, role, upToSeq)
    if (chat === undefined) throw chatNotFound()
    const lastRead = role === 'seller' ? chat.seller_last_read_seq : chat.buyer_last_read_seq
    const previous = role === 'seller' ? before.seller_last_read_seq : before.buyer_last_read_seq
    // Re-reading what was already read changes nothing anyone sees, so it publishes nothing.
    if (lastRead !== previous) {
      this.publish('chat', chatId, { type: 'read', user_id: identity.userId, last_read_seq: lastRead })
      this.publishChatUpdated(chat)
    }
    return { chat_id: chatId, user_id: identity.userId, last_read_seq: lastRead }
  }

  async hideChat (identity: Identity, chatId: string): Promise<void> {
    const { role } = await this.participantChat(identity, chatId)
    await chats.setHidden(this.db, chatId, role, true)
  }

  async unreadCount (identity: Identity): Promise<UnreadCount> {
    return await chats.unreadTotals(this.db, identity)
  }

  async counterparts (identity: Identity): Promise<Identity[]> {
    return await chats.counterpartKeys(this.db, identity)
  }

  private publishChatUpdated (chat: ChatRow | chats.ChatListRow): void {
    const seller = sellerKey(chat)
    const buyer = buyerKey(chat)
    const broker = this.deps.broker
    if (broker.mayHaveUserListeners(seller)) this.publish('user', seller, { type: 'chat_updated', chat: summarize(chat, 'seller') })
    if (broker.mayHaveUserListeners(buyer)) this.publish('user', buyer, { type: 'chat_updated', chat: summarize(chat, 'buyer') })
  }

  /**
   * Fire and forget: the database is the truth and already committed, so a slow or failed broker never delays
   * or fails an ack; clients recover anything missed with after_seq.
   */
  private publish (kind: 'chat', channel: string, event: ChatEvent): void
  private publish (kind: 'user', channel: string, event: UserEvent): void
  private publish (kind: 'chat' | 'user', channel: string, event: ChatEvent | UserEvent): void {
    const published = kind === 'chat'
      ? this.deps.broker.publishChat(channel, event as ChatEvent)
      : this.deps.broker.publishUser(channel, event as UserEvent)
    published.catch((error: unknown) => {
      this.deps.log.warn({ err: error, channel, type: event.type }, 'publish failed; clients will catch up on reconnect')
    })
  }
}
