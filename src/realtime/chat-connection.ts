// Owns one socket on one chat: gap-free history then live events, sends and reads through ChatService, typing with expiry, presence.
import { identityKey, type Identity } from '../auth/identity.js'
import type { ChatService } from '../chat/chat-service.js'
import { buyerKey, sellerKey } from '../chat/chat-service.js'
import type { ChatRow } from '../db/schema.js'
import type { WebSocketConfig } from '../config.js'
import type { Broker, ChatEvent, Unsubscribe } from './broker.js'
import type { ConnectionRegistry, RealtimeLogger } from './connection-registry.js'
import type { ClientFrame, ClientFrameType, FrameError } from './frames.js'
import type { Presence } from './presence.js'
import { PresenceWatch, type Person } from './presence-watch.js'
import type { Session, SessionHandler } from './socket-session.js'
import { TokenBucket } from './token-bucket.js'

export interface RealtimeDeps {
  chat: ChatService
  broker: Broker
  presence: Presence
  registry: ConnectionRegistry
  ws: WebSocketConfig
  log: RealtimeLogger
}

/** History on connect without after_seq: what a chat window shows first. */
export const INITIAL_HISTORY = 50
/** A catch-up with after_seq goes out in frames of this many messages. */
export const HISTORY_PAGE = 100

type MessageEvent = Extract<ChatEvent, { type: 'message' }>

export class ChatConnection implements SessionHandler {
  readonly accepts: readonly ClientFrameType[] = ['message', 'typing', 'read', 'ping']
  private readonly participants: Person[]
  private readonly messageBucket: TokenBucket
  private readonly readBucket: TokenBucket
  private readonly typingBucket: TokenBucket
  private readonly watch: PresenceWatch
  private readonly unsubscribes: Unsubscribe[] = []
  /** Live events held back while history is read, so nothing committed during the handshake is lost or sent twice. */
  private heldBack: ChatEvent[] | null = []
  /** Highest seq sent as history: live copies of these are duplicates. */
  private historyUpTo = 0
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
    private readonly chat: ChatRow,
    private readonly afterSeq: number | null
  ) {
    const { ws } = deps
    this.messageBucket = new TokenBucket(ws.messageRate, ws.messageBurst)
    this.readBucket = new TokenBucket(ws.messageRate, ws.messageBurst)
    this.typingBucket = new TokenBucket(ws.typingRate, ws.typingRate)
    this.participants = [
      { key: buyerKey(chat), userId: chat.buyer_id },
      { key: sellerKey(chat), userId: chat.seller_id }
    ]
    this.watch = new PresenceWatch(deps.broker, deps.presence, (person, online) => { this.presenceChanged(person, online) })
  }

  async open (session: Session): Promise<void> {
    this.session = session
    const { broker, presence } = this.deps
    this.unsubscribes.push(await broker.subscribeChat(this.chat.id, (event) => { this.receive(event) }))
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
  }

  private async sendHistory (session: Session): Promise<void> {
    const { chat } = this.deps
    if (this.afterSeq === null) {
      const { messages } = await chat.historyOf(this.chat, { limit: INITIAL_HISTORY })
      this.historyUpTo = messages.at(-1)?.seq ?? 0
      await session.flush({ type: 'history', messages, complete: true })
      return
    }
    this.historyUpTo = this.afterSeq
    for (;;) {
      const page = await chat.historyOf(this.chat, { limit: HISTORY_PAGE, afterSeq: this.historyUpTo })
      this.historyUpTo = page.messages.at(-1)?.seq ?? this.historyUpTo
      await session.flush({ type: 'history', messages: page.messages, complete: !page.has_more })
      if (!page.has_more || !session.isOpen) return
    }
  }

  admit (frame: ClientFrame): FrameError | 'drop' | null {
    switch (frame.type) {
      case 'message':
        return this.messageBucket.take()
          ? null
          : { code: 'rate_limited', message: 'Too many messages; slow down and resend', client_message_id: frame.client_message_id }
      case 'read':
        return this.readBucket.take() ? null : { code: 'rate_limited', message: 'Too many read frames; slow down' }
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
        this.deps.registry.countMessage()
        const { message } = await this.deps.chat.sendMessage(this.identity, this.chat.id, frame.message_text, frame.client_message_id, session.id)
        // Receivers clear this person's typing when the message arrives; nothing to take back on close.
        this.typing = false
        session.send({ type: 'ack', client_message_id: frame.client_message_id, message })
        return
      }
      case 'typing':
        if (!frame.is_typing && !this.typing) return
        this.typing = frame.is_typing
        await this.publishTyping(frame.is_typing)
        return
      case 'read':
        // The read event comes back through the broker to every socket of both participants, this one included.
        await this.deps.chat.markRead(this.identity, this.chat.id, frame.up_to_seq ?? null)
    }
  }

  async close (): Promise<void> {
    this.heldBack = null
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
    await this.deps.broker.publishChat(this.chat.id, {
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
        // Their message ends their typing, so the indicator never outlives what it announced.
        this.stopTyper(identityKey({ userId: event.message.sender_id, registered: event.message.sender_is_registered }))
        session.send({ type: 'message', message: event.message })
        return
      case 'typing':
        // Not echoed to the typer's own tabs.
        if (event.user_key === session.userKey) return
        if (event.is_typing) this.startTyper(event.user_key, event.user_id)
        else this.stopTyper(event.user_key)
        return
      case 'read':
        session.send({ type: 'read', user_id: event.user_id, last_read_seq: event.last_read_seq })
    }
  }

  /** The sending socket gets an ack instead, and history already carried everything up to historyUpTo. */
  private isNew (event: MessageEvent, session: Session): boolean {
    return event.origin !== session.id && event.message.seq > this.historyUpTo
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
