// Owns the per-person limits across instances: a token bucket per person and action in Redis, and socket counts per instance.
import type { Logger } from '../logger.js'
import { LocalIdentityLimits, type IdentityLimits, type IdentityLimitsOptions, type LimitedAction, type SocketSlot } from './identity-limits.js'
import type { RedisBroker } from './redis-broker.js'

export interface RedisIdentityLimitsOptions extends IdentityLimitsOptions {
  /** An instance not heard from for this long is gone: its sockets no longer count. */
  ttlMs: number
  /** How often this instance says it is alive and rewrites its socket counts. */
  heartbeatMs: number
  log: Pick<Logger, 'warn'>
}

/*
 * Layout, all under the broker's prefix:
 *   limits:rate:<action>:<user key>   hash {tokens, at}: a token bucket on Redis server time, expiring once it would be full
 *   limits:sockets:<user key>         hash: instance id -> sockets that person holds there
 *   limits:alive:<instance id>        set while the instance lives (refreshed every heartbeat, expires after the TTL)
 * Each instance writes only its own field, always as its current local count, so a lost write is repaired by the next
 * one and a restarted Redis is refilled by the next heartbeat. The socket script derives key names from arguments, so
 * this needs a single Redis (or Sentinel), not Redis Cluster, like presence.
 */

/** KEYS: bucket. ARGV: rate per second, burst. Returns 1 when a token was taken. */
const TAKE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return taken
`

/**
 * KEYS: sockets of one person. ARGV: instance id, this instance's count with the new socket, maximum, alive key prefix,
 * key ttl ms. Counts live instances only (forgetting dead ones); records the new count when it fits. Returns 1 if it fits.
 */
const ACQUIRE = `
local total = tonumber(ARGV[2])
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local instance = fields[i]
  if instance ~= ARGV[1] then
    if redis.call('EXISTS', ARGV[4] .. instance) == 1 then
      total = total + tonumber(fields[i + 1])
    else
      redis.call('HDEL', KEYS[1], instance)
    end
  end
end
if total > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`

const HEARTBEAT_BATCH = 500

export class RedisIdentityLimits implements IdentityLimits {
  /** This instance's own view: the socket counts it reports, and the limits while Redis is unreachable. */
  private readonly local: LocalIdentityLimits
  /** People whose count here changed while Redis could not be told; the next heartbeat writes it. */
  private readonly unsent = new Set<string>()
  private readonly timer: NodeJS.Timeout
  private readonly stopListening: () => void
  private beating = false
  private closed = false

  constructor (private readonly broker: RedisBroker, private readonly options: RedisIdentityLimitsOptions) {
    this.local = new LocalIdentityLimits(options)
    broker.link.defineScript('chatLimitTake', TAKE, 1)
    broker.link.defineScript('chatSocketAcquire', ACQUIRE, 1)
    this.timer = setInterval(() => { void this.heartbeat() }, options.heartbeatMs)
    this.timer.unref()
    this.stopListening = broker.onStatusChange((status) => { if (status === 'up') void this.heartbeat() })
    void this.heartbeat()
  }

  async take (action: LimitedAction, userKey: string): Promise<boolean> {
    if (this.broker.status() === 'up') {
      try {
        const taken = await this.broker.link.script('chatLimitTake')(this.key(`rate:${action}:${userKey}`), this.options.rate, this.options.burst)
        return taken === 1
      } catch {
        // Unreachable mid-way: this instance's own bucket is the best limit left, and sends must not fail for it.
      }
    }
    return this.local.takeNow(action, userKey)
  }

  async acquireSocket (userKey: string): Promise<SocketSlot | null> {
    // Counted here first, so concurrent upgrades of one person on this instance each see the others.
    const releaseLocal = this.local.hold(userKey)
    const count = this.local.socketsOf(userKey)
    let fits = count <= this.options.maxSockets
    if (fits && this.broker.status() === 'up') {
      try {
        fits = await this.broker.link.script('chatSocketAcquire')(this.socketsKey(userKey), this.broker.instanceId, count,
          this.options.maxSockets, this.key('alive:'), this.options.ttlMs * 3) === 1
      } catch {
        this.unsent.add(userKey)
      }
    } else if (fits) {
      this.unsent.add(userKey)
    }
    if (!fits) {
      releaseLocal()
      return null
    }
    let released: Promise<void> | null = null
    return {
      // The same promise to every caller, so whoever waits for it knows Redis has been told.
      release: async () => {
        released ??= (async () => {
          releaseLocal()
          await this.report(userKey)
        })()
        await released
      }
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.timer)
    this.stopListening()
    await this.local.close()
    if (this.broker.status() !== 'up') return
    // Sockets closed before this ran (shutdown closes them first); without the alive key nothing here counts anyway.
    try { await this.broker.link.commands.del(this.key(`alive:${this.broker.instanceId}`)) } catch {}
  }

  private key (suffix: string): string {
    return this.broker.link.key('limits', suffix)
  }

  private socketsKey (userKey: string): string {
    return this.key(`sockets:${userKey}`)
  }

  /** Writes this instance's current count for one person (removing the field at zero). */
  private async report (userKey: string): Promise<void> {
    if (this.broker.status() !== 'up') {
      this.unsent.add(userKey)
      return
    }
    try {
      await this.broker.link.commands.pipeline(this.writeCount(userKey)).exec()
      this.unsent.delete(userKey)
    } catch {
      this.unsent.add(userKey)
    }
  }

  private writeCount (userKey: string): string[][] {
    const count = this.local.socketsOf(userKey)
    const key = this.socketsKey(userKey)
    const instance = this.broker.instanceId
    return count === 0
      ? [['hdel', key, instance]]
      : [['hset', key, instance, String(count)], ['pexpire', key, String(this.options.ttlMs * 3)]]
  }

  /** Says this instance is alive and rewrites every count it holds: repairs lost writes and a Redis that lost its data. */
  private async heartbeat (): Promise<void> {
    if (this.beating || this.closed || this.broker.status() !== 'up') return
    this.beating = true
    const people = [...new Set([...this.local.allSockets().keys(), ...this.unsent])]
    this.unsent.clear()
    try {
      await this.broker.link.commands.set(this.key(`alive:${this.broker.instanceId}`), '1', 'PX', this.options.ttlMs)
      for (let i = 0; i < people.length; i += HEARTBEAT_BATCH) {
        const batch = people.slice(i, i + HEARTBEAT_BATCH)
        const replies = await this.broker.link.commands.pipeline(batch.flatMap((userKey) => this.writeCount(userKey))).exec()
        if (replies?.some(([error]) => error !== null) === true) for (const userKey of batch) this.unsent.add(userKey)
      }
    } catch (error) {
      for (const userKey of people) this.unsent.add(userKey)
      if (this.broker.status() === 'up') this.options.log.warn({ err: error }, 'socket limit heartbeat failed; retrying on the next beat')
    } finally {
      this.beating = false
    }
  }
}

export function createRedisIdentityLimits (broker: RedisBroker, options: RedisIdentityLimitsOptions): RedisIdentityLimits {
  return new RedisIdentityLimits(broker, options)
}
