// Owns this instance's open sockets: counters for metrics, the heartbeat that drops dead peers, and the orderly 1001 shutdown.
import { EventEmitter } from 'node:events'
import type { Session } from './socket-session.js'

export interface RealtimeLogger {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

export interface RealtimeStats {
  openConnections: number
  chatConnections: number
  inboxConnections: number
  /** People with at least one socket on this instance (presence covers every instance). */
  onlineUsers: number
  /** Message frames received over sockets since start (counter). */
  messagesReceived: number
  /** Message frames received per second, averaged over the last RATE_WINDOW_SECONDS. */
  messagesPerSecond: number
  /** Connections dropped: missed heartbeat, or too slow to read. */
  heartbeatTimeouts: number
  slowConsumerCloses: number
}

export interface RegistryOptions {
  heartbeatMs: number
  /** How long sockets get to finish their close handshake at shutdown before they are cut. */
  closeGraceMs: number
  log: RealtimeLogger
  now?: () => number
}

const RATE_WINDOW_SECONDS = 10

/** Counts per whole second in a small ring, so a rate needs no timer. */
class RateMeter {
  private readonly counts = new Array<number>(RATE_WINDOW_SECONDS).fill(0)
  private readonly seconds = new Array<number>(RATE_WINDOW_SECONDS).fill(-1)

  constructor (private readonly now: () => number) {}

  mark (): void {
    const second = Math.floor(this.now() / 1000)
    const slot = second % RATE_WINDOW_SECONDS
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second
      this.counts[slot] = 0
    }
    this.counts[slot] = (this.counts[slot] ?? 0) + 1
  }

  perSecond (): number {
    const current = Math.floor(this.now() / 1000)
    let total = 0
    for (let slot = 0; slot < RATE_WINDOW_SECONDS; slot++) {
      const second = this.seconds[slot] ?? -1
      if (second > current - RATE_WINDOW_SECONDS) total += this.counts[slot] ?? 0
    }
    return total / RATE_WINDOW_SECONDS
  }
}

export class ConnectionRegistry extends EventEmitter<{ open: [Session], close: [Session], shutdown: [] }> {
  private readonly sessions = new Set<Session>()
  private readonly users = new Map<string, number>()
  private readonly meter: RateMeter
  private heartbeat: NodeJS.Timeout | null = null
  private shuttingDown = false
  private messages = 0
  private timeouts = 0
  private slow = 0

  constructor (private readonly options: RegistryOptions) {
    super()
    this.meter = new RateMeter(options.now ?? Date.now)
  }

  get log (): RealtimeLogger { return this.options.log }

  /** False once shutdown began: a socket that finished its handshake just then is closed with 1001 straight away. */
  add (session: Session): boolean {
    if (this.shuttingDown) return false
    this.sessions.add(session)
    this.users.set(session.userKey, (this.users.get(session.userKey) ?? 0) + 1)
    this.heartbeat ??= setInterval(() => { this.beat() }, this.options.heartbeatMs).unref()
    this.emit('open', session)
    return true
  }

  remove (session: Session): void {
    if (!this.sessions.delete(session)) return
    const left = (this.users.get(session.userKey) ?? 1) - 1
    if (left > 0) this.users.set(session.userKey, left)
    else this.users.delete(session.userKey)
    if (this.sessions.size === 0) this.stopHeartbeat()
    this.emit('close', session)
  }

  countMessage (): void {
    this.messages++
    this.meter.mark()
  }

  countSlowConsumer (): void { this.slow++ }

  stats (): RealtimeStats {
    let chat = 0
    for (const session of this.sessions) if (session.kind === 'chat') chat++
    return {
      openConnections: this.sessions.size,
      chatConnections: chat,
      inboxConnections: this.sessions.size - chat,
      onlineUsers: this.users.size,
      messagesReceived: this.messages,
      messagesPerSecond: this.meter.perSecond(),
      heartbeatTimeouts: this.timeouts,
      slowConsumerCloses: this.slow
    }
  }

  /** A peer that has not answered the previous ping is gone (half-open TCP, sleeping laptop): cut it. */
  private beat (): void {
    for (const session of this.sessions) {
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
