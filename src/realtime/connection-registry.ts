// Owns this instance's open sockets, indexed by person and chat: counters for metrics, the heartbeat that drops dead peers,
// closing a person's or a chat's sockets on every instance (control messages), and the orderly 1001 shutdown.
import { EventEmitter } from 'node:events'
import type { Logger } from '../logger.js'
import type { Broker, ControlMessage } from './broker.js'
import type { Session } from './socket-session.js'

export interface RealtimeStats {
  openConnections: number
  chatConnections: number
  inboxConnections: number
  /** People with at least one socket on this instance (presence covers every instance). */
  onlineUsers: number
  /** Message frames received over sockets since start (counter). */
  messagesReceived: number
  /** Connections dropped: missed heartbeat, or too slow to read. */
  heartbeatTimeouts: number
  slowConsumerCloses: number
}

export interface RegistryOptions {
  heartbeatMs: number
  /** Carries closeUser/closeChat to every instance (the app's broker); without it they act on this instance only. */
  control?: Pick<Broker, 'publishControl' | 'subscribeControl'>
  /** How long sockets get to finish their close handshake at shutdown before they are cut. */
  closeGraceMs: number
  log: Logger
}

function addTo (index: Map<string, Set<Session>>, key: string, session: Session): void {
  let set = index.get(key)
  if (set === undefined) {
    set = new Set()
    index.set(key, set)
  }
  set.add(session)
}

function removeFrom (index: Map<string, Set<Session>>, key: string, session: Session): void {
  const set = index.get(key)
  set?.delete(session)
  if (set?.size === 0) index.delete(key)
}

export interface RegistryEvents {
  close: [Session]
  shutdown: []
  /** A frame answered with an error frame or a close, by reason (the error code, or e.g. too_large). */
  rejected: [reason: string]
  /** A live message frame was written to a recipient socket; createdAt is the message's commit time. */
  delivered: [createdAt: string]
}

/**
 * The heartbeat pings one slice of the sockets at a time, every heartbeatMs / HEARTBEAT_SLICES, so each socket is
 * still pinged once per heartbeatMs. Pinging every socket in one go was one event-loop stall per heartbeatMs (a write
 * per socket, then as many pongs at once) that every message in flight at that moment waited out: a spike in the
 * send→deliver tail at any load.
 */
export const HEARTBEAT_SLICES = 30

export class ConnectionRegistry extends EventEmitter<RegistryEvents> {
  private readonly sessions = new Set<Session>()
  /** The sessions each heartbeat tick pings; a new session joins the slice after the previous one's. */
  private readonly slices: Array<Set<Session>> = Array.from({ length: HEARTBEAT_SLICES }, () => new Set())
  private readonly sliceOf = new Map<Session, Set<Session>>()
  private nextSlice = 0
  private beatTick = 0
  /** Open sessions by user key, so a person's sockets can be found (and closed) without a scan. */
  private readonly users = new Map<string, Set<Session>>()
  private readonly chats = new Map<string, Set<Session>>()
  private heartbeat: NodeJS.Timeout | null = null
  private shuttingDown = false
  private listening = false
  private messages = 0
  private timeouts = 0
  private slow = 0

  constructor (private readonly options: RegistryOptions) {
    super()
  }

  get log (): Logger { return this.options.log }

  /** False once shutdown began: a socket that finished its handshake just then is closed with 1001 straight away. */
  add (session: Session): boolean {
    if (this.shuttingDown) return false
    this.sessions.add(session)
    addTo(this.users, session.userKey, session)
    if (session.chatId !== null) addTo(this.chats, session.chatId, session)
    const slice = this.slices[this.nextSlice++ % HEARTBEAT_SLICES] as Set<Session>
    slice.add(session)
    this.sliceOf.set(session, slice)
    this.heartbeat ??= setInterval(() => { this.beat() }, this.options.heartbeatMs / HEARTBEAT_SLICES).unref()
    return true
  }

  remove (session: Session): void {
    if (!this.sessions.delete(session)) return
    removeFrom(this.users, session.userKey, session)
    if (session.chatId !== null) removeFrom(this.chats, session.chatId, session)
    this.sliceOf.get(session)?.delete(session)
    this.sliceOf.delete(session)
    if (this.sessions.size === 0) this.stopHeartbeat()
    this.emit('close', session)
  }

  /**
   * Subscribes this registry to the control channel; call once per instance. Returns the unsubscribe. A registry that
   * never listens still closes its own sockets on closeUser/closeChat, but not those on other instances.
   */
  async listen (): Promise<() => Promise<void>> {
    if (this.options.control === undefined) return async () => {}
    this.listening = true
    const stop = await this.options.control.subscribeControl((message) => { this.apply(message) })
    return async () => {
      this.listening = false
      await stop()
    }
  }

  /** Closes every socket of this person, on every instance, with this close code (a ban, an identity that changed). */
  async closeUser (userKey: string, code: number, reason: string): Promise<void> {
    await this.send({ type: 'close_user', user_key: userKey, code, reason })
  }

  /** Closes every socket open on this chat, on every instance: clients reconnect and the upgrade checks access again. */
  async closeChat (chatId: string, code: number, reason: string): Promise<void> {
    await this.send({ type: 'close_chat', chat_id: chatId, code, reason })
  }

  /** The sockets this person has open on this instance. */
  sessionsOf (userKey: string): Session[] {
    return [...(this.users.get(userKey) ?? [])]
  }

  private async send (message: ControlMessage): Promise<void> {
    // Brokers deliver to this instance's handler too; without one listening, act here directly.
    if (this.listening && this.options.control !== undefined) await this.options.control.publishControl(message)
    else this.apply(message)
  }

  private apply (message: ControlMessage): void {
    // Another version of the service may publish kinds this one does not know: those are ignored.
    const sessions = message.type === 'close_user'
      ? this.sessionsOf(message.user_key)
      : message.type === 'close_chat' ? [...(this.chats.get(message.chat_id) ?? [])] : []
    if (sessions.length === 0) return
    this.log.info({ control: message.type, connections: sessions.length, code: message.code }, 'closing websockets on request')
    for (const session of sessions) session.close(message.code, message.reason)
  }

  countMessage (): void { this.messages++ }

  countSlowConsumer (): void { this.slow++ }

  countRejected (reason: string): void { this.emit('rejected', reason) }

  countDelivered (createdAt: string): void { this.emit('delivered', createdAt) }

  stats (): RealtimeStats {
    let chat = 0
    for (const session of this.sessions) if (session.kind === 'chat') chat++
    return {
      openConnections: this.sessions.size,
      chatConnections: chat,
      inboxConnections: this.sessions.size - chat,
      onlineUsers: this.users.size,
      messagesReceived: this.messages,
      heartbeatTimeouts: this.timeouts,
      slowConsumerCloses: this.slow
    }
  }

  /** A peer that has not answered the previous ping is gone (half-open TCP, sleeping laptop): cut it. */
  private beat (): void {
    for (const session of this.slices[this.beatTick++ % HEARTBEAT_SLICES] as Set<Session>) {
      if (!session.alive) {
        this.timeouts++
        this.log.info({ connection: session.id }, 'websocket missed its heartbeat; terminating')
        session.terminate()
        continue
      }
      session.alive = false
      session.ping()
    }
  }

  private stopHeartbeat (): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat)
    this.heartbeat = null
  }

  /**
   * Stops reading every socket, lets every frame already read finish (a received message is committed and acked),
   * then closes with 1001 so clients reconnect elsewhere. Anything not read was never acked, so clients resend it.
   */
  async shutdown (): Promise<void> {
    this.shuttingDown = true
    this.stopHeartbeat()
    this.emit('shutdown')
    const sessions = [...this.sessions]
    for (const session of sessions) session.pause()
    await Promise.all(sessions.map(async (session) => { await session.drain() }))
    for (const session of sessions) session.close(1001, 'Server shutting down; reconnect')
    let grace: NodeJS.Timeout | undefined
    const graceOver = new Promise<void>((resolve) => { grace = setTimeout(resolve, this.options.closeGraceMs) })
    await Promise.race([Promise.all(sessions.map(async (session) => { await session.finished })), graceOver])
    clearTimeout(grace)
    for (const session of this.sessions) session.terminate()
    await Promise.all(sessions.map(async (session) => { await session.finished }))
  }
}
