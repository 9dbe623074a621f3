// Owns cross-instance fan-out over Redis pub/sub: local delivery first, one publish every other instance hears, never blocking.
import { randomUUID } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import type { Broker, ChatEvent, PresenceEvent, Unsubscribe, UserEvent } from './broker.js'
import { ChannelHub } from './channel-hub.js'

export type RedisStatus = 'up' | 'down'

export interface BrokerLogger {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

export interface RedisBrokerOptions {
  url: string
  /** Put in front of every channel and key, so several deployments (or tests) can share one Redis. */
  prefix: string
  log: BrokerLogger
  /** Bound on any one command: a hung Redis never holds up a publish, a presence update or a readiness probe. */
  commandTimeoutMs?: number
  /** How long start-up waits for Redis before carrying on without it (it keeps reconnecting in the background). */
  startupWaitMs?: number
}

/** What travels over Redis. `o` is the publishing instance, which already delivered locally; absent = deliver everywhere. */
interface Envelope { o?: string, e: unknown }

type Kind = 'chat' | 'user' | 'presence'
type Handler = (event: never) => void

const SUBSCRIBE_BATCH = 500

export class RedisBroker implements Broker {
  /** Tells this instance's own publishes apart when Redis echoes them back. */
  readonly instanceId = randomUUID()
  readonly prefix: string
  /** Commands, publishes and presence scripts; fails fast while disconnected rather than queueing. */
  readonly commands: Redis
  private readonly subscriber: Redis
  private readonly hub = new ChannelHub<unknown>()
  /** SUBSCRIBE in flight per channel, so a second local handler also waits until Redis confirms. */
  private readonly subscribing = new Map<string, Promise<void>>()
  private readonly log: BrokerLogger
  private readonly listeners = new Set<(status: RedisStatus) => void>()
  private current: RedisStatus = 'down'
  /** The subscriber connection is ready and has subscribed every local channel again since it (re)connected. */
  private resubscribed = false
  private lastError: string | null = null
  /** Counts messages received from Redis; per channel, the count at its latest one (see receivedSince). */
  private received = 0
  private readonly lastReceived = new Map<string, number>()
  private closed = false

  constructor (options: RedisBrokerOptions) {
    this.prefix = options.prefix
    this.log = options.log
    const common: RedisOptions = {
      // Redis is the lossy side (Postgres holds the truth): a command that cannot be sent now fails now
      // instead of piling up and firing stale publishes minutes later.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      // The local handler set is the one source of truth for subscriptions; on every (re)connect we subscribe
      // exactly those channels (see resubscribe), which also covers SUBSCRIBEs that failed during an outage and
      // drops channels whose UNSUBSCRIBE could not reach Redis.
      autoResubscribe: false,
      commandTimeout: options.commandTimeoutMs ?? 1000,
      connectTimeout: 5000,
      maxRetriesPerRequest: 1,
      // Keep retrying for as long as the app lives, at most a second apart, so recovery is quick.
      retryStrategy: (times) => Math.min(times * 100, 1000)
    }
    this.commands = new Redis(options.url, { ...common, connectionName: 'chat-commands' })
    this.subscriber = new Redis(options.url, { ...common, connectionName: 'chat-subscriber' })
    for (const connection of [this.commands, this.subscriber]) {
      // Without an error listener ioredis would crash the process on every failed reconnect.
      connection.on('error', (error: Error) => { this.lastError = error.message })
      for (const event of ['ready', 'close', 'end', 'reconnecting']) connection.on(event, () => { this.refreshStatus() })
    }
    this.subscriber.on('ready', () => { void this.resubscribe() })
    for (const event of ['close', 'end', 'reconnecting']) this.subscriber.on(event, () => { this.resubscribed = false })
    this.subscriber.on('message', (channel: string, payload: string) => { this.receive(channel, payload) })
  }

  /** Resolves when both connections are ready, or after `ms` with Redis still down (start-up carries on). */
  async waitUntilUp (ms: number): Promise<RedisStatus> {
    if (this.current === 'up') return 'up'
    let timer: NodeJS.Timeout | undefined
    let stop = (): void => {}
    await new Promise<void>((resolve) => {
      stop = this.onStatusChange((status) => { if (status === 'up') resolve() })
      timer = setTimeout(resolve, ms)
    })
    clearTimeout(timer)
    stop()
    return this.current
  }

  /** Whether both connections are usable right now (cheap; for metrics and logs). */
  status (): RedisStatus {
    return this.current
  }

  /** One bounded round trip, for the readiness probe. */
  async ping (): Promise<RedisStatus> {
    try {
      await this.commands.ping()
      return this.current
    } catch {
      return 'down'
    }
  }

  /** Called on every change between up and down (presence re-registers its users on the way up). Returns a remover. */
  onStatusChange (listener: (status: RedisStatus) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  channel (kind: Kind, id: string): string {
    return `${this.prefix}${kind}:${id}`
  }

  /** The ids of one kind of channel that local handlers listen to. */
  localIds (kind: Kind): string[] {
    const start = this.channel(kind, '')
    return this.hub.channels().filter((channel) => channel.startsWith(start)).map((channel) => channel.slice(start.length))
  }

  /** A mark to pass to receivedSince: which messages from Redis have arrived so far. */
  receivedMark (): number {
    return this.received
  }

  /** Whether a message on this channel arrived after the mark (so it is at least as fresh as anything read since). */
  receivedSince (kind: Kind, id: string, mark: number): boolean {
    return (this.lastReceived.get(this.channel(kind, id)) ?? 0) > mark
  }

  /** Hands an event to this instance's handlers only (state re-read after an outage). */
  deliverLocally (kind: Kind, id: string, event: ChatEvent | UserEvent | PresenceEvent): void {
    this.hub.deliver(this.channel(kind, id), event)
  }

  async publishChat (chatId: string, event: ChatEvent): Promise<void> {
    await this.publish(this.channel('chat', chatId), event)
  }

  async subscribeChat (chatId: string, handler: (event: ChatEvent) => void): Promise<Unsubscribe> {
    return await this.subscribe(this.channel('chat', chatId), handler)
  }

  async publishUser (userKey: string, event: UserEvent): Promise<void> {
    await this.publish(this.channel('user', userKey), event)
  }

  // Listeners may sit on any instance.
  mayHaveUserListeners (): boolean {
    return true
  }

  async subscribeUser (userKey: string, handler: (event: UserEvent) => void): Promise<Unsubscribe> {
    return await this.subscribe(this.channel('user', userKey), handler)
  }

  async publishPresence (event: PresenceEvent): Promise<void> {
    await this.publish(this.channel('presence', event.user_key), event)
  }

  async subscribePresence (userKey: string, handler: (event: PresenceEvent) => void): Promise<Unsubscribe> {
    return await this.subscribe(this.channel('presence', userKey), handler)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.listeners.clear()
    await Promise.all([this.commands, this.subscriber].map(async (connection) => {
      // QUIT when connected lets Redis drop our subscriptions cleanly; disconnect() also stops reconnecting.
      if (connection.status === 'ready') await connection.quit().catch(() => {})
      connection.disconnect()
    }))
  }

  /**
   * Local handlers first (so this instance keeps working with Redis down), then one PUBLISH for the others.
   * Never rejects because of Redis and never waits longer than the command timeout: callers publish after a commit.
   */
  private async publish (channel: string, event: unknown): Promise<void> {
    this.hub.deliver(channel, event)
    if (this.current === 'down') return
    const envelope: Envelope = { o: this.instanceId, e: event }
    try {
      await this.commands.publish(channel, JSON.stringify(envelope))
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error)
      this.refreshStatus()
    }
  }

  private async subscribe (channel: string, handler: Handler): Promise<Unsubscribe> {
    const local = handler as (event: unknown) => void
    if (this.hub.add(channel, local)) {
      // Issued synchronously with the hub change, so SUBSCRIBE/UNSUBSCRIBE reach Redis in the order handlers came and went.
      const pending = this.subscriber.subscribe(channel).then(() => {}, () => {
        // Redis is down or slow: resubscribe() subscribes every local channel once it is back.
      })
      this.subscribing.set(channel, pending)
      void pending.then(() => { if (this.subscribing.get(channel) === pending) this.subscribing.delete(channel) })
    }
    await this.subscribing.get(channel)
    let done = false
    return async () => {
      if (done) return
      done = true
      if (!this.hub.remove(channel, local) || this.closed) return
      this.subscribing.delete(channel)
      this.lastReceived.delete(channel)
      // If this fails, the connection is gone and so is the subscription; resubscribe() will not bring it back.
      await this.subscriber.unsubscribe(channel).catch(() => {})
    }
  }

  private receive (channel: string, payload: string): void {
    let envelope: Envelope
    try {
      envelope = JSON.parse(payload) as Envelope
    } catch {
      this.log.warn({ channel }, 'ignored a malformed message from redis')
      return
    }
    if (envelope.o === this.instanceId || !this.hub.has(channel)) return
    this.received += 1
    this.lastReceived.set(channel, this.received)
    try {
      this.hub.deliver(channel, envelope.e)
    } catch (error) {
      this.log.error({ err: error, channel }, 'a real-time handler failed')
    }
  }

  /** Redis forgets a connection's subscriptions with the connection; Redis counts as up again once they are back. */
  private async resubscribe (): Promise<void> {
    const channels = this.hub.channels()
    try {
      for (let i = 0; i < channels.length; i += SUBSCRIBE_BATCH) {
        await this.subscriber.subscribe(...channels.slice(i, i + SUBSCRIBE_BATCH))
      }
    } catch {
      return // Lost the connection again; its next 'ready' starts over.
    }
    // Handlers that left while this was under way took their channels with them.
    const gone = channels.filter((channel) => !this.hub.has(channel))
    if (gone.length > 0) await this.subscriber.unsubscribe(...gone).catch(() => {})
    this.resubscribed = true
    this.refreshStatus()
  }

  private refreshStatus (): void {
    if (this.closed) return
    const next: RedisStatus = this.commands.status === 'ready' && this.subscriber.status === 'ready' && this.resubscribed ? 'up' : 'down'
    if (next === this.current) return
    this.current = next
    if (next === 'down') {
      this.log.warn({ redis: 'down', reason: this.lastError }, 'redis unreachable: messages are still stored and delivered on this instance, other instances get them when clients catch up')
    } else {
      this.log.info({ redis: 'up' }, 'redis reachable: real-time fan-out across instances is on')
    }
    for (const listener of [...this.listeners]) listener(next)
  }
}

export function createRedisBroker (options: RedisBrokerOptions): RedisBroker {
  return new RedisBroker(options)
}
