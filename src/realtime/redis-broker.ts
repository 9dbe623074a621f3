// Owns cross-instance fan-out over Redis pub/sub: local delivery first, one publish every other instance hears, never blocking.
import { randomUUID } from 'node:crypto'
import type { Logger } from '../logger.js'
import type { Broker, ChatEvent, ControlMessage, PresenceEvent, Unsubscribe, UserEvent } from './broker.js'
import { ChannelHub } from './channel-hub.js'
import { decodeEnvelope, encodeEnvelope, RedisLink, type ChannelKind } from './redis-link.js'

export type RedisStatus = 'up' | 'down'

export interface RedisBrokerOptions {
  url: string
  /** Put in front of every channel and key, so several deployments (or tests) can share one Redis. */
  prefix: string
  log: Logger
  /** Bound on any one command: a hung Redis never holds up a publish, a presence update or a readiness probe. */
  commandTimeoutMs?: number
  /** How long start-up waits for Redis before carrying on without it (it keeps reconnecting in the background). */
  startupWaitMs?: number
}

/** On the control channel besides ControlMessage: an instance whose publishes were lost announces it once Redis is back. */
interface Resync { type: 'resync', instance: string }
type Handler = (event: never) => void

const SUBSCRIBE_BATCH = 500

export class RedisBroker implements Broker {
  /** Tells this instance's own publishes apart when Redis echoes them back. */
  readonly instanceId = randomUUID()
  /** Connections, names and envelopes, shared with presence and the per-person limits. */
  readonly link: RedisLink
  private readonly subscriber: RedisLink['subscriber']
  private readonly hub = new ChannelHub<unknown>()
  /** SUBSCRIBE in flight per channel, so a second local handler also waits until Redis confirms. */
  private readonly subscribing = new Map<string, Promise<void>>()
  private readonly log: Logger
  private readonly listeners = new Set<(status: RedisStatus) => void>()
  private readonly gapListeners = new Set<() => void>()
  private readonly controlHandlers = new Set<(message: ControlMessage) => void>()
  /** A publish was dropped (Redis down) or failed since the last resync announcement. */
  private lostPublishes = false
  private current: RedisStatus = 'down'
  /** The subscriber connection is ready and has subscribed every local channel again since it (re)connected. */
  private resubscribed = false
  private lastError: string | null = null
  /** Counts messages received from Redis; per channel, the count at its latest one (see receivedSince). */
  private received = 0
  private readonly lastReceived = new Map<string, number>()
  private closed = false

  constructor (options: RedisBrokerOptions) {
    this.log = options.log
    this.link = new RedisLink({ url: options.url, prefix: options.prefix, commandTimeoutMs: options.commandTimeoutMs })
    this.subscriber = this.link.subscriber
    for (const connection of [this.link.commands, this.subscriber]) {
      // Without an error listener ioredis would crash the process on every failed reconnect.
      connection.on('error', (error: Error) => { this.lastError = error.message })
      for (const event of ['ready', 'close', 'end', 'reconnecting']) connection.on(event, () => { this.refreshStatus() })
    }
    this.subscriber.on('ready', () => { void this.resubscribe() })
    for (const event of ['close', 'end', 'reconnecting']) this.subscriber.on(event, () => { this.resubscribed = false })
    this.subscriber.on('message', (channel: string, payload: string) => { this.receive(channel, payload) })
    // Held like any local channel, so every (re)subscribe includes it.
    this.hub.add(this.link.controlChannel, (message) => { this.control(message as ControlMessage | Resync) })
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
      await this.link.commands.ping()
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

  /** See Broker.onGap: fires when this instance's Redis is back and when another instance announces it is back. */
  onGap (listener: () => void): () => void {
    this.gapListeners.add(listener)
    return () => { this.gapListeners.delete(listener) }
  }

  get prefix (): string {
    return this.link.prefix
  }

  channel (kind: ChannelKind, id: string): string {
    return this.link.channel(kind, id)
  }

  /** The ids of one kind of channel that local handlers listen to. */
  localIds (kind: ChannelKind): string[] {
    const start = this.channel(kind, '')
    return this.hub.channels().filter((channel) => channel.startsWith(start)).map((channel) => channel.slice(start.length))
  }

  /** A mark to pass to receivedSince: which messages from Redis have arrived so far. */
  receivedMark (): number {
    return this.received
  }

  /** Whether a message on this channel arrived after the mark (so it is at least as fresh as anything read since). */
  receivedSince (kind: ChannelKind, id: string, mark: number): boolean {
    return (this.lastReceived.get(this.channel(kind, id)) ?? 0) > mark
  }

  /** Hands an event to this instance's handlers only (state re-read after an outage). */
  deliverLocally (kind: ChannelKind, id: string, event: ChatEvent | UserEvent | PresenceEvent): void {
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

  async publishControl (message: ControlMessage): Promise<void> {
    await this.publish(this.link.controlChannel, message)
  }

  async subscribeControl (handler: (message: ControlMessage) => void): Promise<Unsubscribe> {
    this.controlHandlers.add(handler)
    let done = false
    return async () => {
      if (done) return
      done = true
      this.controlHandlers.delete(handler)
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.listeners.clear()
    this.gapListeners.clear()
    this.controlHandlers.clear()
    await this.link.close()
  }

  /**
   * Local handlers first (so this instance keeps working with Redis down), then one PUBLISH for the others.
   * Never rejects because of Redis and never waits longer than the command timeout: callers publish after a commit.
   */
  private async publish (channel: string, event: unknown): Promise<void> {
    this.hub.deliver(channel, event)
    await this.publishRemote(channel, event)
  }

  private async publishRemote (channel: string, event: unknown): Promise<void> {
    if (this.current === 'down') {
      this.lostPublishes = true
      return
    }
    try {
      await this.link.commands.publish(channel, encodeEnvelope(event, this.instanceId))
    } catch (error) {
      this.lostPublishes = true
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
    const envelope = decodeEnvelope(payload)
    if (envelope === null) {
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
    const next: RedisStatus = this.link.commands.status === 'ready' && this.subscriber.status === 'ready' && this.resubscribed ? 'up' : 'down'
    if (next === this.current) return
    this.current = next
    if (next === 'down') {
      this.log.warn({ redis: 'down', reason: this.lastError }, 'redis unreachable: messages are still stored and delivered on this instance, other instances get them when clients catch up')
    } else {
      this.log.info({ redis: 'up' }, 'redis reachable: real-time fan-out across instances is on')
    }
    for (const listener of [...this.listeners]) listener(next)
    if (next !== 'up') return
    // What others published while we were not subscribed never reached our sockets: they catch up. At start-up there
    // are no sockets yet, so this costs nothing.
    this.notifyGap()
    // What we published meanwhile never reached the others: they catch up too. Only then, so that starting an
    // instance (a deploy) does not make every other instance re-read every socket.
    if (this.lostPublishes) {
      this.lostPublishes = false
      const resync: Resync = { type: 'resync', instance: this.instanceId }
      void this.publishRemote(this.link.controlChannel, resync)
    }
  }

  /** Resyncs are the broker's own business; everything else goes to the registry's handler. */
  private control (message: ControlMessage | Resync): void {
    if (message.type === 'resync') {
      this.notifyGap()
      return
    }
    for (const handler of [...this.controlHandlers]) {
      try {
        handler(message)
      } catch (error) {
        this.log.error({ err: error }, 'a control handler failed')
      }
    }
  }

  private notifyGap (): void {
    for (const listener of [...this.gapListeners]) {
      try {
        listener()
      } catch (error) {
        this.log.error({ err: error }, 'a catch-up handler failed')
      }
    }
  }
}

export function createRedisBroker (options: RedisBrokerOptions): RedisBroker {
  return new RedisBroker(options)
}
