// Owns the same-text limit's memory across instances: a sorted set per sender and text in Redis, checked and recorded by one script per event-loop turn.
import type { Logger } from '../logger.js'
import type { RedisBroker } from '../realtime/redis-broker.js'
import { LocalTextWindow, SAME_TEXT_WINDOW_MS, textKey, type SameTextWindow } from './text-window.js'

/*
 * Layout, under the broker's prefix: sametext:<sender key>\0<fingerprint> is a sorted set of chat ids scored by when the
 * text went into them (Redis server time, so instances agree), expiring a window after its last send. Like the other
 * scripts this derives nothing from key names and needs one Redis (or Sentinel), not Redis Cluster.
 */

/**
 * KEYS: one set per check. ARGV: window ms, then per check its chat id and its limit (0 = record whatever the count).
 * Returns per check the other chats within the window, after recording the chat when that count is under the limit.
 * Checks run in order, so two for the same text in one call see each other.
 */
const CLAIM = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = tonumber(ARGV[1])
local counts = {}
for i = 1, #KEYS do
  local chat = ARGV[2 * i]
  local limit = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window - 1)
  local others = redis.call('ZCARD', KEYS[i])
  if redis.call('ZSCORE', KEYS[i], chat) then others = others - 1 end
  if limit == 0 or others < limit then
    redis.call('ZADD', KEYS[i], now, chat)
    redis.call('PEXPIRE', KEYS[i], window)
  end
  counts[i] = others
end
return counts
`

/** Checks sent in one script call at most. */
const CLAIMS_AT_MOST = 500

interface Asked { key: string, chatId: string, limit: number, resolve: (others: number) => void, reject: (error: unknown) => void }

export interface RedisTextWindowOptions {
  log: Pick<Logger, 'warn'>
}

export class RedisTextWindow implements SameTextWindow {
  /** This instance's own count: what answers while Redis is unreachable, so sends never fail for it. */
  private readonly local = new LocalTextWindow()
  private asked: Asked[] = []
  private sending = false

  constructor (private readonly broker: RedisBroker, private readonly options: RedisTextWindowOptions) {
    broker.link.defineScript('chatSameTextClaim', CLAIM)
  }

  async claim (senderKey: string, fingerprint: string, chatId: string, limit: number): Promise<number> {
    // Kept here too, so an outage starts from what this instance has seen rather than from nothing.
    const localOthers = this.local.claimNow(senderKey, fingerprint, chatId, limit)
    if (this.broker.status() !== 'up') return localOthers
    try {
      return await this.ask(senderKey, fingerprint, chatId, limit)
    } catch {
      return localOthers
    }
  }

  async add (senderKey: string, fingerprint: string, chatId: string): Promise<void> {
    this.local.addNow(senderKey, fingerprint, chatId)
    if (this.broker.status() !== 'up') return
    try {
      await this.ask(senderKey, fingerprint, chatId, 0)
    } catch {
      // Logged once for its batch; this instance's own count has it.
    }
  }

  async close (): Promise<void> {
    await this.local.close()
  }

  /**
   * Joins the next script call: one is in flight at a time, and the next takes every check that arrived meanwhile,
   * starting at the end of the event-loop turn so the frames read in one turn share it (as the send batcher shares
   * its statement): one Redis round trip per batch of sends, not per send.
   */
  private async ask (senderKey: string, fingerprint: string, chatId: string, limit: number): Promise<number> {
    return await new Promise((resolve, reject) => {
      this.asked.push({ key: this.broker.link.key('sametext', textKey(senderKey, fingerprint)), chatId, limit, resolve, reject })
      if (this.sending) return
      this.sending = true
      setImmediate(() => { void this.send() })
    })
  }

  private async send (): Promise<void> {
    while (this.asked.length > 0) {
      const batch = this.asked.splice(0, CLAIMS_AT_MOST)
      try {
        const counts = await this.broker.link.script('chatSameTextClaim')(batch.length, ...batch.map((ask) => ask.key),
          SAME_TEXT_WINDOW_MS, ...batch.flatMap((ask) => [ask.chatId, ask.limit])) as number[]
        batch.forEach((ask, i) => { ask.resolve(Number(counts[i])) })
      } catch (error) {
        // Once per batch, not per send: during an outage every send of the batch falls back alike.
        this.options.log.warn({ err: error }, 'same-text limit: Redis did not answer; these sends were counted on this instance alone')
        for (const ask of batch) ask.reject(error)
      }
    }
    this.sending = false
  }
}

export function createRedisTextWindow (broker: RedisBroker, options: RedisTextWindowOptions): RedisTextWindow {
  return new RedisTextWindow(broker, options)
}
