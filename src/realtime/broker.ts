// Owns the fan-out contract: publish/subscribe by chat and by user, so nothing outside a broker assumes one process.
import type { ChatSummary, Message } from '../chat/schemas.js'

/** Events about one chat, delivered to every socket open on it. */
export type ChatEvent =
  /** origin is the connection that sent it (it gets an ack instead); null when sent over REST. */
  | { type: 'message', message: Message, origin: string | null }
  | { type: 'typing', user_id: string, user_key: string, is_typing: boolean }
  | { type: 'read', user_id: string, last_read_seq: number }

/** Events for one person, delivered to every socket of theirs (inbox streams). */
export type UserEvent =
  | { type: 'chat_updated', chat: ChatSummary }

/** A person came online (first connection anywhere) or went offline (last one closed, or their instance died). */
export interface PresenceEvent { user_key: string, user_id: string, online: boolean }

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
  close: () => Promise<void>
}
