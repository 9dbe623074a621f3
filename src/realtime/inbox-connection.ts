// Owns one inbox stream: the caller's chat summaries as they change, and the online state of everyone they chat with.
import type { Identity } from '../auth/identity.js'
import { counterpartOf, personOf } from '../chat/participants.js'
import type { UserEvent, Unsubscribe } from './broker.js'
import type { RealtimeDeps } from './chat-connection.js'
import type { ClientFrameType } from './frames.js'
import { PresenceWatch } from './presence-watch.js'
import type { Session, SessionHandler } from './socket-session.js'

export class InboxConnection implements SessionHandler {
  // Only pings and token refreshes: everything else an inbox does goes over REST.
  readonly accepts: readonly ClientFrameType[] = ['ping', 'auth']
  private readonly watch: PresenceWatch
  private unsubscribe: Unsubscribe | null = null
  private stopGapWatch: (() => void) | null = null
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
    // An inbox cannot tell which chat_updated it missed: the client reconnects and reloads its list (one REST call).
    this.stopGapWatch = broker.onGap?.(() => { session.close(1012, 'Missed live updates; reconnect and reload') }) ?? null
    this.unsubscribe = await broker.subscribeUser(session.userKey, (event) => { this.receive(event) })
    if (!session.isOpen) return
    await presence.connect(session.userKey, this.identity.userId)
    this.presenceJoined = true
    const counterparts = await chat.counterparts(this.identity)
    await this.watch.watch(counterparts.map(personOf))
  }

  async handle (): Promise<void> {}

  async close (): Promise<void> {
    this.stopGapWatch?.()
    this.stopGapWatch = null
    await this.unsubscribe?.()
    this.unsubscribe = null
    await this.watch.close()
    if (this.presenceJoined && this.session !== null) {
      this.presenceJoined = false
      await this.deps.presence.disconnect(this.session.userKey, this.identity.userId)
    }
  }

  private receive (event: UserEvent): void {
    if (event.type === 'chat_merged') {
      this.session?.send(event)
      return
    }
    this.session?.send({ type: 'chat_updated', chat: event.chat })
    // A chat that did not exist when the stream opened brings someone new to follow.
    const counterpart = personOf(counterpartOf(event.chat, event.chat.role))
    if (this.watch.has(counterpart.key)) return
    this.watch.watch([counterpart]).catch((error: unknown) => {
      this.deps.log.warn({ err: error }, 'could not follow a new counterpart; their presence shows after a reconnect')
    })
  }
}
