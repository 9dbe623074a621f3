// Owns the chat domain's outgoing events: the port ChatService reports to, and the combinator that fans one event out to many implementations.
import type { Identity } from '../auth/identity.js'
import type { ChatRow } from '../db/schema.js'
import type { Logger } from '../logger.js'
import type { ChatListRow } from './chat-repository.js'
import type { Role } from './participants.js'
import type { Message } from './schemas.js'

/**
 * Every handler is called after the change is committed and must not block: a send's ack waits for it. An
 * implementation that does I/O starts it and handles its own failures (the database is the truth; clients catch up).
 */
/** A chat as a change left it (a full row, or the wire-ready row a send returns). */
export type ChatState = ChatRow | ChatListRow

export interface ChatEvents {
  /** A new message was stored (never for a retried duplicate); chat is as the send left it. origin: the sending connection, null over REST. */
  messageStored: (event: { message: Message, chat: ChatState, sender: Identity, origin: string | null }) => void
  /** A reader's pointer moved forward (never for a re-read that changes nothing). */
  readAdvanced: (event: { chat: ChatState, reader: Identity, role: Role, lastReadSeq: number }) => void
  /** Something either side's inbox shows changed: opened, a message, a read. */
  chatChanged: (chat: ChatState) => void
  /**
   * A registered user claimed a guest's chats: `moved` kept their ids, each of `merged` was folded into the user's
   * chat and its from_chat_id no longer exists. The guest identity is gone: its sockets must close.
   */
  guestClaimed: (event: { guest: Identity, user: Identity, moved: ChatRow[], merged: Array<{ fromChatId: string, chat: ChatRow }> }) => void
}

// A Record, so adding an event to ChatEvents without adding it here is a type error.
const EVENT_NAMES: Record<keyof ChatEvents, true> = { messageStored: true, readAdvanced: true, chatChanged: true, guestClaimed: true }

/** One ChatEvents from several partial ones, in order; one that throws is logged and never stops the others or the caller. */
export function combineEvents (log: Pick<Logger, 'warn'>, ...parts: Array<Partial<ChatEvents>>): ChatEvents {
  const handlersOf = <K extends keyof ChatEvents>(name: K): Array<ChatEvents[K]> =>
    parts.flatMap((part) => part[name] === undefined ? [] : [part[name]])
  const combined: Partial<ChatEvents> = {}
  for (const name of Object.keys(EVENT_NAMES) as Array<keyof ChatEvents>) {
    const handlers = handlersOf(name) as Array<(event: unknown) => void>
    ;(combined as Record<string, (event: unknown) => void>)[name] = (event) => {
      for (const handler of handlers) {
        try {
          handler(event)
        } catch (error) {
          log.warn({ err: error, event: name }, 'a chat event handler failed; the change itself is committed')
        }
      }
    }
  }
  return combined as ChatEvents
}

/** Counts what the metrics endpoint reports. */
export function metricsEvents (metrics: { messagesStored: { inc: () => void } }): Partial<ChatEvents> {
  return { messageStored: () => { metrics.messagesStored.inc() } }
}
