// Owns the fan-out contract: publish/subscribe by chat and by user, so nothing outside a broker assumes one process.
import type { ChatSummary, Message } from '../chat/schemas.js'

/** Events about one chat, delivered to every socket open on it. */
export type ChatEvent =
  /** origin is the connection that sent it (it gets an ack instead); null when sent over REST. */
  | { type: 'message', message: Message, origin: string | null }
  | { type: 'typing', user_id: string, user_key: string, is_typing: boolean }
  | { type: 'read', user_id: string, last_read_seq: number }
  /** A claim folded this chat into to_chat_id (which now holds its messages); this chat no longer exists. */
  | { type: 'chat_merged', from_chat_id: string, to_chat_id: string }
  /** A claim gave this chat a new buyer (the guest's account): each side's view of it, then its sockets reconnect. */
  | { type: 'chat_moved', seller: ChatSummary, buyer: ChatSummary }

/** Events for one person, delivered to every socket of theirs (inbox streams). */
export type UserEvent =
  | { type: 'chat_updated', chat: ChatSummary }
  | { type: 'chat_merged', from_chat_id: string, to_chat_id: string }

/** A person came online (first connection anywhere) or went offline (last one closed, or their instance died). */
export interface PresenceEvent { user_key: string, user_id: string, online: boolean }

/**
 * Instructions to every instance's socket registry (each subscribes once), for decisions that outlive a socket:
 * a ban closes a person's sockets everywhere (#15), a claim or an access change makes a chat's sockets reconnect
 * through the access check again (#14). The publishing instance acts on it too.
 */
export type ControlMessage =
  | { type: 'close_user', user_key: string, code: number, reason: string }
  /** Re-check chat Y: its sockets close with the code, clients reconnect, and the upgrade checks access afresh. */
  | { type: 'close_chat', chat_id: string, code: number, reason: string }

export type Unsubscribe = () => Promise<void>

export interface Broker {
  publishChat: (chatId: string, event: ChatEvent) => Promise<void>
  subscribeChat: (chatId: string, handler: (event: ChatEvent) => void) => Promise<Unsubscribe>
  publishUser: (userKey: string, event: UserEvent) => Promise<void>
  /**
   * False only when no socket anywhere can be listening to this person, so the event need not even be built
   * (most buyers never open an inbox). A broker that cannot know answers true.
   */
  mayHaveUserListeners: (userKey: string) => boolean
  subscribeUser: (userKey: string, handler: (event: UserEvent) => void) => Promise<Unsubscribe>
  publishPresence: (event: PresenceEvent) => Promise<void>
  /** Presence changes of one person, for the sockets that show them (their chats, their counterparts' inboxes). */
  subscribePresence: (userKey: string, handler: (event: PresenceEvent) => void) => Promise<Unsubscribe>
  /** Delivered to this instance's control handler and every other instance's (best effort, like every event). */
  publishControl: (message: ControlMessage) => Promise<void>
  subscribeControl: (handler: (message: ControlMessage) => void) => Promise<Unsubscribe>
  /**
   * Called whenever events published anywhere may have failed to reach this instance's handlers (a broker that lost
   * and regained its connection, here or on another instance): sockets then catch up from the database. A broker
   * that never loses events need not implement it. Returns a remover.
   */
  onGap?: (listener: () => void) => () => void
  close: () => Promise<void>
}
