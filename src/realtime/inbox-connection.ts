// Owns one inbox stream: the caller's chat summaries as they change, and the online state of everyone they chat with.
import { identityKey, type Identity } from '../auth/identity.js'
import type { ChatSummary } from '../chat/schemas.js'
import type { UserEvent, Unsubscribe } from './broker.js'
import type { RealtimeDeps } from './chat-connection.js'
import type { ClientFrameType } from './frames.js'
import { PresenceWatch, type Person } from './presence-watch.js'
import type { Session, SessionHandler } from './socket-session.js'

/** The other side of a chat, as seen by the summary's owner. */
export function counterpartOf (chat: ChatSummary): Person {
  return chat.role === 'seller'
    ? { key: identityKey({ userId: chat.buyer_id, registered: chat.buyer_is_registered }), userId: chat.buyer_id }
    : { key: identityKey({ userId: chat.seller_id, registered: true }), userId: chat.seller_id }
}

export class InboxConnection implements SessionHandler {
  // Only pings: everything else an inbox does goes over REST.
  readonly accepts: readonly ClientFrameType[] = ['ping']
  private readonly watch: PresenceWatch
  private unsubscribe: Unsubscribe | null = null
  private presenceJoined = false
  private session: Session | null = null

  constructor (private readonly deps: RealtimeDeps, private readonly identity: Identity) {
    this.watch = new PresenceWatch(deps.broker, deps.presence, (person, online) => {
      this.session?.send({ type: 'presence', user_id: person.userId, online })
    })
  }

  async open (session: Session): Promise<void> {
    this.session = session
    const { broker, presence, chat } = this.deps
    this.unsubscribe = await broker.subscribeUser(session.userKey, (event) => { this.receive(event) })
    if (!session.isOpen) return
    await presence.connect(session.userKey, this.identity.userId)
    this.presenceJoined = true
    const counterparts = await chat.counterparts(this.identity)
    await this.watch.watch(counterparts.map((person) => ({ key: identityKey(person), userId: person.userId })))
  }

  async handle (): Promise<void> {}

  async close (): Promise<void> {
    await this.unsubscribe?.()
    this.unsubscribe = null
    await this.watch.close()
    if (this.presenceJoined && this.session !== null) {
      this.presenceJoined = false
      await this.deps.presence.disconnect(this.session.userKey, this.identity.userId)
    }
  }

  private receive (event: UserEvent): void {
    this.session?.send({ type: 'chat_updated', chat: event.chat })
    // A chat that did not exist when the stream opened brings someone new to follow.
    const counterpart = counterpartOf(event.chat)
    if (this.watch.has(counterpart.key)) return
    this.watch.watch([counterpart]).catch((error: unknown) => {
      this.deps.log.warn({ err: error }, 'could not follow a new counterpart; their presence shows after a reconnect')
    })
  }
}
