// Owns who is online across instances: per-person holder sets in Redis kept alive by heartbeats, swept when an instance dies.
import type { Logger } from '../logger.js'
import { identityFromKey } from '../auth/identity.js'
import type { PresenceEvent } from './broker.js'
import type { Presence } from './presence.js'
import type { RedisBroker } from './redis-broker.js'
import { encodeEnvelope, LUA_ENVELOPE } from './redis-link.js'

export interface RedisPresenceOptions {
  /** A holder not refreshed for this long is gone (its instance crashed or lost Redis). */
  ttlMs: number
  /** How often this instance refreshes the people it holds and sweeps expired holders. */
  heartbeatMs: number
  log: Pick<Logger, 'warn'>
}

/*
 * Layout, all under the broker's prefix:
 *   presence:holders:<user key>  sorted set: instance id → last heartbeat (Redis server time, ms)
 *   presence:expiry              sorted set: JSON [instance id, user key, user id] → the same heartbeat, for the sweep
 * A person is online exactly while their holder set exists. Every change of that runs in one script that also
 * PUBLISHes the PresenceEvent, so the online/offline decision is atomic (two instances never both announce or both
 * miss it) and every instance sees the events in the order Redis decided them. Those publishes carry no origin, so
 * the publishing instance hears them too, through the same subscription as everyone else.
 * The scripts derive some key names from arguments, so this needs a single Redis (or Sentinel), not Redis Cluster.
 */
const NOW_MS = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`

/** KEYS: expiry, holders of each person. ARGV: instance id, then per person: expiry member, channel, online payload. */
const JOIN = `${NOW_MS}
local joined = 0
for i = 2, #KEYS do
  local at = 2 + (i - 2) * 3
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('PUBLISH', ARGV[at + 1], ARGV[at + 2])
    joined = joined + 1
  end
  redis.call('ZADD', KEYS[i], now, ARGV[1])
  redis.call('ZADD', KEYS[1], now, ARGV[at])
end
return joined
`

/**
 * KEYS: expiry, holders. ARGV: instance id, expiry member, channel, offline payload, retry flag.
 * A retry (the first attempt failed while Redis was away, maybe losing its data) announces offline whenever nobody
 * holds the person, even if our entry had already gone; a repeated offline is harmless, a missing one is not.
 */
const LEAVE = `
redis.call('ZREM', KEYS[1], ARGV[2])
local removed = redis.call('ZREM', KEYS[2], ARGV[1])
if (removed == 1 or ARGV[5] == '1') and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
  return 1
end
return 0
`

/** KEYS: expiry. ARGV: ttl ms, holders key prefix, presence channel prefix, batch size. Returns {expired, went offline}. */
const SWEEP = `${NOW_MS}${LUA_ENVELOPE}
local cutoff = now - tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff, 'LIMIT', 0, tonumber(ARGV[4]))
local offline = 0
for _, member in ipairs(expired) do
  redis.call('ZREM', KEYS[1], member)
  local entry = cjson.decode(member)
  local holders = ARGV[2] .. entry[2]
  local score = redis.call('ZSCORE', holders, entry[1])
  if score and tonumber(score) <= cutoff then
    redis.call('ZREM', holders, entry[1])
    if redis.call('EXISTS', holders) == 0 then
      redis.call('PUBLISH', ARGV[3] .. entry[2], envelope({ user_key = entry[2], user_id = entry[3], online = false }))
      offline = offline + 1
    end
  end
end
return { #expired, offline }
`

const HEARTBEAT_BATCH = 200
const SWEEP_BATCH = 500

interface Held { userId: string, connections: number }

export class RedisPresence implements Presence {
  /** People with at least one open connection on this instance. */
  private readonly held = new Map<string, Held>()
  /** People who left while Redis was unreachable: their leave is retried when it is back. */
  private readonly unsentLeaves = new Map<string, string>()
  private readonly expiryKey: string
  private readonly timer: NodeJS.Timeout
  private readonly stopListening: () => void
  private ticking = false
  private closed = false

  constructor (private readonly broker: RedisBroker, private readonly options: RedisPresenceOptions) {
    this.expiryKey = broker.link.key('presence', 'expiry')
    for (const [name, lua] of [['chatPresenceJoin', JOIN], ['chatPresenceLeave', LEAVE], ['chatPresenceSweep', SWEEP]] as const) {
      broker.link.defineScript(name, lua)
    }
    this.timer = setInterval(() => { void this.tick() }, options.heartbeatMs)
    this.timer.unref()
    // Back from an outage (or a Redis restart that lost everything): put our people back and send the leaves we owe.
    this.stopListening = broker.onStatusChange((status) => { if (status === 'up') void this.resync() })
  }

  async connect (userKey: string, userId: string): Promise<void> {
    const held = this.held.get(userKey)
    if (held !== undefined) {
      held.connections += 1
      return
    }
    this.held.set(userKey, { userId, connections: 1 })
    this.unsentLeaves.delete(userKey)
    await this.join([userKey])
  }

  async disconnect (userKey: string, userId: string): Promise<void> {
    const held = this.held.get(userKey)
    if (held === undefined) return
    held.connections -= 1
    if (held.connections > 0) return
    this.held.delete(userKey)
    await this.leave(userKey, userId, false)
  }

  async onlineAmong (userKeys: string[]): Promise<Set<string>> {
    // Someone connected here is online whatever Redis says (or whether it answers).
    const online = new Set(userKeys.filter((key) => this.held.has(key)))
    const others = userKeys.filter((key) => !online.has(key))
    if (others.length === 0 || this.broker.status() === 'down') return online
    try {
      const replies = await this.broker.link.commands.pipeline(others.map((key) => ['exists', this.holdersKey(key)])).exec()
      replies?.forEach(([error, exists], i) => {
        if (error === null && exists === 1) online.add(others[i] as string)
      })
    } catch {
      // Redis went away mid-question: what this instance knows is the best answer left.
    }
    return online
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.timer)
    this.stopListening()
    // A clean shutdown says goodbye now rather than leaving others to wait out the TTL.
    const leaving = [...this.held].map(([userKey, held]) => this.leave(userKey, held.userId, false))
    this.held.clear()
    await Promise.all(leaving)
  }

  private holdersKey (userKey: string): string {
    return this.broker.link.key('presence', `holders:${userKey}`)
  }

  private payload (userKey: string, userId: string, online: boolean): string {
    const event: PresenceEvent = { user_key: userKey, user_id: userId, online }
    return encodeEnvelope(event)
  }

  /** Registers (or refreshes) this instance as a holder; announces online for anyone nobody held before. */
  private async join (userKeys: string[]): Promise<void> {
    if (this.broker.status() === 'down') return
    const instance = this.broker.instanceId
    for (let i = 0; i < userKeys.length; i += HEARTBEAT_BATCH) {
      const batch = userKeys.slice(i, i + HEARTBEAT_BATCH).flatMap((userKey) => {
        const held = this.held.get(userKey)
        return held === undefined ? [] : [{ userKey, userId: held.userId }]
      })
      if (batch.length === 0) continue
      const keys = [this.expiryKey, ...batch.map(({ userKey }) => this.holdersKey(userKey))]
      const args = batch.flatMap(({ userKey, userId }) => [
        JSON.stringify([instance, userKey, userId]),
        this.broker.channel('presence', userKey),
        this.payload(userKey, userId, true)
      ])
      try {
        await this.broker.link.script('chatPresenceJoin')(keys.length, ...keys, instance, ...args)
      } catch {
        // Redis is away; resync() registers everyone held once it is back.
        return
      }
    }
  }

  private async leave (userKey: string, userId: string, retry: boolean): Promise<void> {
    const instance = this.broker.instanceId
    if (this.broker.status() === 'up') {
      try {
        await this.broker.link.script('chatPresenceLeave')(2, this.expiryKey, this.holdersKey(userKey), instance,
          JSON.stringify([instance, userKey, userId]), this.broker.channel('presence', userKey),
          this.payload(userKey, userId, false), retry ? '1' : '0')
        this.unsentLeaves.delete(userKey)
        return
      } catch {}
    }
    if (!this.closed) this.unsentLeaves.set(userKey, userId)
  }

  private async resync (): Promise<void> {
    const leaves = [...this.unsentLeaves]
    await Promise.all(leaves.map(async ([userKey, userId]) => { await this.leave(userKey, userId, true) }))
    await this.join([...this.held.keys()])
    await this.replayMissed()
  }

  /**
   * Changes published while this instance was cut off from Redis never reached it. Now that its subscriptions are back,
   * re-read everyone its sockets watch and tell them the current state, unless a newer event already arrived meanwhile.
   */
  private async replayMissed (): Promise<void> {
    const watched = this.broker.localIds('presence')
    if (watched.length === 0) return
    const mark = this.broker.receivedMark()
    let replies
    try {
      replies = await this.broker.link.commands.pipeline(watched.map((key) => ['exists', this.holdersKey(key)])).exec()
    } catch {
      return // Gone again; the next recovery replays.
    }
    watched.forEach((userKey, i) => {
      const [error, exists] = replies?.[i] ?? [new Error('no reply'), 0]
      if (error !== null || this.broker.receivedSince('presence', userKey, mark)) return
      const online = exists === 1 || this.held.has(userKey)
      this.broker.deliverLocally('presence', userKey, { user_key: userKey, user_id: identityFromKey(userKey).userId, online })
    })
  }

  /** Heartbeat for the people held here, then a sweep for everyone's expired holders (any instance may do it). */
  private async tick (): Promise<void> {
    if (this.ticking || this.closed || this.broker.status() === 'down') return
    this.ticking = true
    try {
      await this.join([...this.held.keys()])
      for (;;) {
        const result = await this.broker.link.script('chatPresenceSweep')(1, this.expiryKey, this.options.ttlMs,
          this.holdersKey(''), this.broker.channel('presence', ''), SWEEP_BATCH) as [number, number]
        if (result[0] < SWEEP_BATCH) break
      }
    } catch (error) {
      if (this.broker.status() === 'up') this.options.log.warn({ err: error }, 'presence heartbeat failed; retrying on the next beat')
    } finally {
      this.ticking = false
    }
  }
}

export function createRedisPresence (broker: RedisBroker, options: RedisPresenceOptions): RedisPresence {
  return new RedisPresence(broker, options)
}
