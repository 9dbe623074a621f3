// Owns the Redis plumbing every Redis-backed part shares: the connections and their options, the key prefix, channel and
// key names, and the envelope events travel in (in TypeScript and in Lua), so no part reaches into another's internals.
import { Redis, type RedisOptions } from 'ioredis'

/** Channels that carry events about one thing (a chat, a person, a person's presence). */
export type ChannelKind = 'chat' | 'user' | 'presence'

/** What travels over Redis. `o` is the publishing instance, which already delivered locally; absent = deliver everywhere. */
export interface Envelope { o?: string, e: unknown }

export function encodeEnvelope (event: unknown, origin?: string): string {
  const envelope: Envelope = origin === undefined ? { e: event } : { o: origin, e: event }
  return JSON.stringify(envelope)
}

/** Null for a payload that is not an envelope (something else published on our channel). */
export function decodeEnvelope (payload: string): Envelope | null {
  try {
    const envelope = JSON.parse(payload) as unknown
    return typeof envelope === 'object' && envelope !== null && 'e' in envelope ? envelope as Envelope : null
  } catch {
    return null
  }
}

/** The same envelope for scripts that publish (no origin: every instance, the publisher included, delivers it). */
export const LUA_ENVELOPE = `
local function envelope(event) return cjson.encode({ e = event }) end
`

export interface RedisLinkOptions {
  url: string
  /** Put in front of every channel and key, so several deployments (or tests) can share one Redis. */
  prefix: string
  /** Bound on any one command: a hung Redis never holds up a publish, a presence update or a readiness probe. */
  commandTimeoutMs?: number
}

/** Names under one prefix, and the two connections: commands (publishes, scripts) and the subscriber. */
export class RedisLink {
  readonly prefix: string
  /** Commands, publishes and scripts; fails fast while disconnected rather than queueing. */
  readonly commands: Redis
  /** Subscriptions only (a subscribed connection cannot run other commands). */
  readonly subscriber: Redis
  /** Every instance listens here once: instructions for its socket registry, and resync announcements. */
  readonly controlChannel: string

  constructor (options: RedisLinkOptions) {
    this.prefix = options.prefix
    this.controlChannel = `${options.prefix}control`
    const common: RedisOptions = {
      // Redis is the lossy side (Postgres holds the truth): a command that cannot be sent now fails now
      // instead of piling up and firing stale publishes minutes later.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      // The broker's local handler set is the one source of truth for subscriptions; on every (re)connect it subscribes
      // exactly those channels, which also covers SUBSCRIBEs that failed during an outage and drops channels whose
      // UNSUBSCRIBE could not reach Redis.
      autoResubscribe: false,
      commandTimeout: options.commandTimeoutMs ?? 1000,
      connectTimeout: 5000,
      maxRetriesPerRequest: 1,
      // Keep retrying for as long as the app lives, at most a second apart, so recovery is quick.
      retryStrategy: (times) => Math.min(times * 100, 1000)
    }
    this.commands = new Redis(options.url, { ...common, connectionName: 'chat-commands' })
    this.subscriber = new Redis(options.url, { ...common, connectionName: 'chat-subscriber' })
  }

  channel (kind: ChannelKind, id: string): string {
    return `${this.prefix}${kind}:${id}`
  }

  /** A key of one part (presence, limits), e.g. key('presence', 'expiry'). */
  key (part: string, suffix: string): string {
    return `${this.prefix}${part}:${suffix}`
  }

  /** Runs a script registered with defineScript. */
  script (name: string): (...args: Array<string | number>) => Promise<unknown> {
    const commands = this.commands as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>
    const command = commands[name]
    if (command === undefined) throw new Error(`redis script ${name} was never defined`)
    return command.bind(this.commands)
  }

  defineScript (name: string, lua: string, numberOfKeys?: number): void {
    this.commands.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys })
  }

  async close (): Promise<void> {
    await Promise.all([this.commands, this.subscriber].map(async (connection) => {
      // QUIT when connected lets Redis drop our subscriptions cleanly; disconnect() also stops reconnecting.
      if (connection.status === 'ready') await connection.quit().catch(() => {})
      connection.disconnect()
    }))
  }
}
