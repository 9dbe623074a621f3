// Owns one socket on one chat: gap-free history then live events, sends and reads through ChatService, typing with expiry, presence.
import { identityKey, type Identity } from '../auth/identity.js'
import type { ChatService } from '../chat/chat-service.js'
import { personOf, senderOf, type ChatAccess } from '../chat/participants.js'
import type { WebSocketConfig } from '../config.js'
import { AppError } from '../errors.js'
import type { Logger } from '../logger.js'
import { CLOSE_CHAT_CHANGED } from '../protocol/limits.js'
import type { Broker, ChatEvent, Unsubscribe } from './broker.js'
import type { ConnectionRegistry } from './connection-registry.js'
import type { IdentityLimits } from './identity-limits.js'
import type { ClientFrame, ClientFrameType, FrameError } from './frames.js'
import type { Presence } from './presence.js'
import { PresenceWatch, type Person } from './presence-watch.js'
import type { Session, SessionHandler } from './socket-session.js'
import type { TaskLimiter } from './task-limiter.js'
import { TokenBucket } from './token-bucket.js'

export interface RealtimeDeps {
  chat: ChatService
  broker: Broker
  presence: Presence
  registry: ConnectionRegistry
  /** Message and read rates per person, across their sockets and instances. */
  limits: IdentityLimits
  ws: WebSocketConfig
  log: Logger
  /** Shared by the app's sockets: catch-ups after a broker gap all start at once and must leave the pool room for sends. */
  catchUps: TaskLimiter
}

/** History on connect without after_seq: what a chat window shows first. */
export const INITIAL_HISTORY = 50
/** A catch-up with after_seq goes out in frames of this many messages. */
export const HISTORY_PAGE = 100
/**
 * A live message above a missing seq is normal for a moment (two instances publish concurrent sends in either order);
 * a hole still there after this long was lost on the way (a publish dropped by Redis), and is read from the database.
 */
export const GAP_GRACE_MS = 1000

/** The seqs this socket has been given (history, live, or acked): everything up to upTo, and some above it. */
export class SentSeqs {
  upTo = 0
  private readonly above = new Set<number>()

  /** Everything up to seq counts as given (history without after_seq starts at the newest message). */
  start (seq: number): void {
    this.upTo = seq
    this.above.clear()
  }

  has (seq: number): boolean {
    return seq <= this.upTo || this.above.has(seq)
  }

  mark (seq: number): void {
    if (this.has(seq)) return
    if (seq !== this.upTo + 1) {
      this.above.add(seq)
      return
    }
    this.upTo = seq
    while (this.above.delete(this.upTo + 1)) this.upTo++
  }

  /** Some seq below one already given is missing. */
  get hasGap (): boolean {
    return this.above.size > 0
  }
}

type MessageEvent = Extract<ChatEvent, { type: 'message' }>

export class ChatConnection implements SessionHandler {
  readonly accepts: readonly ClientFrameType[] = ['message', 'typing', 'read', 'ping', 'auth']
  private readonly participants: Person[]
  private readonly typingBucket: TokenBucket
  private readonly watch: PresenceWatch
  private readonly unsubscribes: Unsubscribe[] = []
  /** Live events held back while history is read, so nothing committed during the handshake is lost or sent twice. */
  private heldBack: ChatEvent[] | null = []
  /** What this socket already has: live copies of these are duplicates, and a catch-up sends what is missing. */
  private readonly sent = new SentSeqs()
  /** A catch-up was asked for while the handshake or another catch-up held live events back: run (again) after it. */
  private catchUpWanted = false
  private gapTimer: NodeJS.Timeout | null = null
  private stopGapWatch: (() => void) | null = null
  /** The client_message_id of the message frame being stored right now: its ack, not a catch-up, tells the sender. */
  private sending: string | null = null
  /** Other people shown as typing to this socket, each with the timer that expires it. */
  private readonly typers = new Map<string, { userId: string, timer: NodeJS.Timeout }>()
  /** Whether this socket last told the others it is typing (so a close can take it back). */
  private typing = false
  private presenceJoined = false
  private presenceShown = false
  private session: Session | null = null

  constructor (
    private readonly deps: RealtimeDeps,
    private readonly identity: Identity,
    private readonly access: ChatAccess,
    private readonly afterSeq: number | null
  ) {
    const { ws } = deps
    this.typingBucket = new TokenBucket(ws.typingRate, ws.typingRate)
    this.participants = [
      personOf(access.buyer),
      personOf(access.seller)
    ]
    this.watch = new PresenceWatch(deps.broker, deps.presence, (person, online) => { this.presenceChanged(person, online) })
  }

  async open (session: Session): Promise<void> {
    this.session = session
    const { broker, presence } = this.deps
    // Before subscribing, so a broker outage that ends during the handshake still triggers a catch-up.
    this.stopGapWatch = broker.onGap?.(() => { void this.catchUp() }) ?? null
    this.unsubscribes.push(await broker.subscribeChat(this.access.chatId, (event) => { this.receive(event) }))
    if (!session.isOpen) return
    await presence.connect(session.userKey, this.identity.userId)
    this.presenceJoined = true
    await this.sendHistory(session)
    if (!session.isOpen) return
    const held = inSeqOrder(this.heldBack ?? [])
    this.heldBack = null
    const seen = new Set<number>()
    for (const event of held) {
      if (event.type === 'message') {
        if (seen.has(event.message.seq)) continue
        seen.add(event.message.seq)
      }
      this.deliver(event)
    }
    await this.watch.watch(this.participants)
    this.presenceShown = true
    this.sendPresence()
    if (this.catchUpWanted) void this.catchUp()
  }

  private async sendHistory (session: Session): Promise<void> {
    const { chat } = this.deps
    if (this.afterSeq === null) {
      const { messages } = await chat.historyOf(this.access.chatId, { limit: INITIAL_HISTORY })
      this.sent.start(messages.at(-1)?.seq ?? 0)
      await session.flush({ type: 'history', messages, complete: true })
      return
    }
    this.sent.start(this.afterSeq)
    for (;;) {
      const page = await chat.historyOf(this.access.chatId, { limit: HISTORY_PAGE, afterSeq: this.sent.upTo })
      for (const message of page.messages) this.sent.mark(message.seq)
      await session.flush({ type: 'history', messages: page.messages, complete: !page.has_more })
      if (!page.has_more || !session.isOpen) return
    }
  }

  admit (frame: ClientFrame): FrameError | 'drop' | null {
    switch (frame.type) {
      // Messages and reads are limited per person, which may mean asking Redis: that happens in turn, in handle.
      case 'typing':
        // "Stopped typing" always passes: dropping it would leave the indicator on until it expires.
        return !frame.is_typing || this.typingBucket.take() ? null : 'drop'
      default:
        return null
    }
  }

  async handle (frame: ClientFrame, session: Session): Promise<void> {
    switch (frame.type) {
      case 'message': {
        if (!await this.deps.limits.take('message', session.userKey)) {
          throw new AppError('rate_limited', 'Too many messages; slow down and resend')
        }
        this.deps.registry.countMessage()
        this.sending = frame.client_message_id
        let message
        try {
          ({ message } = await this.deps.chat.sendMessage(this.identity, this.access.chatId, frame.message_text, frame.client_message_id, session.id, frame.attachment_ids ?? []))
        } finally {
          this.sending = null
        }
        // Receivers clear this person's typing when the message arrives; nothing to take back on close.
        this.typing = false
        this.sent.mark(message.seq)
        this.watchForGap()
        session.send({ type: 'ack', client_message_id: frame.client_message_id, message })
        return
      }
      case 'typing':
        if (!frame.is_typing && !this.typing) return
        this.typing = frame.is_typing
        await this.publishTyping(frame.is_typing)
        return
      case 'read':
        if (!await this.deps.limits.take('read', session.userKey)) throw new AppError('rate_limited', 'Too many read frames; slow down')
        // The read event comes back through the broker to every socket of both participants, this one included.
        await this.deps.chat.markRead(this.identity, this.access.chatId, frame.up_to_seq ?? null)
    }
  }

  async close (): Promise<void> {
    this.heldBack = null
    this.stopGapWatch?.()
    this.stopGapWatch = null
    if (this.gapTimer !== null) clearTimeout(this.gapTimer)
    this.gapTimer = null
    for (const { timer } of this.typers.values()) clearTimeout(timer)
    this.typers.clear()
    if (this.typing) {
      this.typing = false
      await this.publishTyping(false).catch((error: unknown) => { this.deps.log.warn({ err: error }, 'could not publish typing stop') })
    }
    await Promise.all(this.unsubscribes.splice(0).map(async (unsubscribe) => { await unsubscribe() }))
    await this.watch.close()
    if (this.presenceJoined && this.session !== null) {
      this.presenceJoined = false
      await this.deps.presence.disconnect(this.session.userKey, this.identity.userId)
    }
  }

  private async publishTyping (isTyping: boolean): Promise<void> {
    await this.deps.broker.publishChat(this.access.chatId, {
      type: 'typing',
      user_id: this.identity.userId,
      user_key: identityKey(this.identity),
      is_typing: isTyping
    })
  }

  private receive (event: ChatEvent): void {
    if (this.heldBack !== null) this.heldBack.push(event)
    else this.deliver(event)
  }

  private deliver (event: ChatEvent): void {
    const session = this.session
    if (session === null) return
    switch (event.type) {
      case 'message':
        if (!this.isNew(event, session)) return
        this.sent.mark(event.message.seq)
        this.watchForGap()
        // Their message ends their typing, so the indicator never outlives what it announced.
        this.stopTyper(identityKey(senderOf(event.message)))
        session.send({ type: 'message', message: event.message })
        this.deps.registry.countDelivered(event.message.created_at)
        return
      case 'typing':
        // Not echoed to the typer's own tabs.
        if (event.user_key === session.userKey) return
        if (event.is_typing) this.startTyper(event.user_key, event.user_id)
        else this.stopTyper(event.user_key)
        return
      case 'read':
        session.send({ type: 'read', user_id: event.user_id, last_read_seq: event.last_read_seq })
        return
      // A claim changed who is in this chat: say so, then close so the client reconnects through the access check
      // (presence and typing then follow the registered buyer).
      case 'chat_moved':
        session.send({ type: 'chat_updated', chat: this.access.role === 'seller' ? event.seller : event.buyer })
        session.close(CLOSE_CHAT_CHANGED, 'chat_changed')
        return
      case 'chat_merged':
        session.send({ type: 'chat_merged', from_chat_id: event.from_chat_id, to_chat_id: event.to_chat_id })
        session.close(CLOSE_CHAT_CHANGED, 'chat_changed')
    }
  }

  /** The sending socket gets an ack instead, and history or a catch-up may already have carried it. */
  private isNew (event: MessageEvent, session: Session): boolean {
    return event.origin !== session.id && !this.sent.has(event.message.seq)
  }

  private watchForGap (): void {
    if (this.gapTimer !== null || !this.sent.hasGap) return
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null
      if (this.sent.hasGap) void this.catchUp()
    }, GAP_GRACE_MS)
    this.gapTimer.unref()
  }

  /**
   * Sends, as live message frames, whatever the database holds after the last seq this socket has and it was never
   * given: what the broker lost during an outage, or a single lost publish. Live events wait meanwhile and follow in
   * seq order, as at the handshake. If the database cannot be read either, the socket is closed with 1012 so the
   * client reconnects with after_seq once it can.
   */
  private async catchUp (): Promise<void> {
    const session = this.session
    if (session === null || !session.isOpen) return
    if (this.heldBack !== null) {
      this.catchUpWanted = true
      return
    }
    this.heldBack = []
    try {
      do {
        this.catchUpWanted = false
        let after = this.sent.upTo
        for (;;) {
          const from = after
          const page = await this.deps.catchUps.run(async () => await this.deps.chat.historyOf(this.access.chatId, { limit: HISTORY_PAGE, afterSeq: from }))
          if (!session.isOpen) return
          for (const message of page.messages) {
            const ownInFlight = message.sender_id === this.identity.userId && message.client_message_id !== null && message.client_message_id === this.sending
            if (this.sent.has(message.seq) || ownInFlight) continue
            this.sent.mark(message.seq)
            session.send({ type: 'message', message })
          }
          after = page.messages.at(-1)?.seq ?? after
          if (!page.has_more) break
        }
      } while (this.catchUpWanted)
    } catch (error) {
      this.deps.log.warn({ err: error, chat: this.access.chatId }, 'could not catch a socket up after a broker gap; closing it so the client reconnects')
      session.close(1012, 'Missed live messages; reconnect with after_seq')
    } finally {
      const held = inSeqOrder(this.heldBack ?? [])
      this.heldBack = null
      for (const event of held) this.deliver(event)
    }
  }

  /**
   * The receiving side owns expiry: it works whichever instance the typer is on, and a typer whose instance dies
   * still stops typing here.
   */
  private startTyper (key: string, userId: string): void {
    const current = this.typers.get(key)
    if (current !== undefined) clearTimeout(current.timer)
    const timer = setTimeout(() => { this.stopTyper(key) }, this.deps.ws.typingTimeoutMs)
    timer.unref()
    this.typers.set(key, { userId, timer })
    if (current === undefined) this.session?.send({ type: 'typing', user_id: userId, is_typing: true })
  }

  private stopTyper (key: string): void {
    const current = this.typers.get(key)
    if (current === undefined) return
    clearTimeout(current.timer)
    this.typers.delete(key)
    this.session?.send({ type: 'typing', user_id: current.userId, is_typing: false })
  }

  private presenceChanged (person: Person, online: boolean): void {
    if (!online) this.stopTyper(person.key)
    if (this.presenceShown) this.sendPresence()
  }

  private sendPresence (): void {
    const online = this.participants.filter((person) => this.watch.isOnline(person.key)).map((person) => person.userId)
    this.session?.send({ type: 'presence', online })
  }
}

/** Concurrent sends may publish out of commit order; held-back messages go out by seq, other events keep their place. */
function inSeqOrder (events: ChatEvent[]): ChatEvent[] {
  const messages = events.filter((event): event is MessageEvent => event.type === 'message')
    .sort((a, b) => a.message.seq - b.message.seq)
  let next = 0
  return events.map((event) => event.type === 'message' ? messages[next++] ?? event : event)
}
