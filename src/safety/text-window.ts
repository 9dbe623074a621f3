// Owns the same-text limit's memory on one instance: which chats each sender's texts went into in the last minutes.
import { LRUCache } from 'lru-cache'

export const SAME_TEXT_WINDOW_MINUTES = 10
export const SAME_TEXT_WINDOW_MS = SAME_TEXT_WINDOW_MINUTES * 60_000
const WINDOW_SECONDS = SAME_TEXT_WINDOW_MS / 1000

/**
 * Sends (a sender's text into one chat) remembered at most: about 450 bytes each (measured), so 45 MB at most. Past
 * it the oldest send is forgotten first, so under more than 160 sends a second the window is shorter than ten minutes
 * (at 2,000 msg/s, 50 s: still far longer than a spammer needs to reach the limit).
 */
export const SAME_TEXT_MAX_SENDS = 100_000

/** How often texts that left the window are forgotten while nothing is sent. */
const SWEEP_MS = 60_000

/**
 * The chats a sender's text went into. Kept outside the database: a row written per send and a read per batch cost
 * PostgreSQL more than the send statement itself (a 4,000 msg/s run failed with it, passed without it), and the
 * count only ever needs the last ten minutes. Several instances share it through Redis (redis-text-window.ts).
 */
export interface SameTextWindow {
  /**
   * Other chats this sender's text went into within the window; when there are fewer than `limit`, this chat is
   * counted in at once, so sequential sends are never missed. A check and its record are one step, as in Redis.
   */
  claim: (senderKey: string, fingerprint: string, chatId: string, limit: number) => Promise<number>
  /** Counts this chat in whatever the count (a seller past the limit, answering their own buyers). */
  add: (senderKey: string, fingerprint: string, chatId: string) => Promise<void>
  close: () => Promise<void>
}

export interface LocalTextWindowOptions {
  maxSends?: number
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number
}

export class LocalTextWindow implements SameTextWindow {
  /**
   * Each (sender, text, chat) sent within the window, to when (seconds since the window started), least recently sent
   * first: the oldest is what leaves the window first, and what goes when `maxSends` are held. Strings and small
   * integers only: an object per text (a map or arrays of its chats) kept ~300,000 objects alive at 2,000 msg/s, and
   * the collector's pauses stalled the event loop up to 28 ms against 6 ms with the limit off. lru-cache, not a Map
   * used as a queue: a Map keeps its deleted entries until it is rebuilt, and taking its oldest walks past them
   * (47 µs per send once full, against under 1 µs).
   */
  private readonly sends: LRUCache<string, number>
  /** Per (sender, text), how many of its chats are in `sends`. */
  private readonly chatCounts = new Map<string, number>()
  private readonly now: () => number
  private readonly startedAt: number
  private readonly sweeper: NodeJS.Timeout

  constructor (options: LocalTextWindowOptions = {}) {
    this.sends = new LRUCache<string, number>({
      max: options.maxSends ?? SAME_TEXT_MAX_SENDS,
      // a send leaves the count however it goes: out of the window, or pushed out by newer ones
      dispose: (_at, send) => { this.uncount(send) },
      // a send again into the same chat only moves it to the newest
      noDisposeOnSet: true
    })
    this.now = options.now ?? Date.now
    this.startedAt = this.now()
    this.sweeper = setInterval(() => { this.forgetOld(this.seconds()) }, SWEEP_MS).unref()
  }

  claimNow (senderKey: string, fingerprint: string, chatId: string, limit: number): number {
    this.forgetOld(this.seconds())
    const text = textKey(senderKey, fingerprint)
    const send = sendKey(text, chatId)
    // Everything left in `sends` is within the window, so the count is exact.
    const others = (this.chatCounts.get(text) ?? 0) - (this.sends.has(send) ? 1 : 0)
    if (others < limit) this.record(text, send)
    return others
  }

  addNow (senderKey: string, fingerprint: string, chatId: string): void {
    const text = textKey(senderKey, fingerprint)
    this.record(text, sendKey(text, chatId))
  }

  async claim (senderKey: string, fingerprint: string, chatId: string, limit: number): Promise<number> {
    return this.claimNow(senderKey, fingerprint, chatId, limit)
  }

  async add (senderKey: string, fingerprint: string, chatId: string): Promise<void> {
    this.addNow(senderKey, fingerprint, chatId)
  }

  async close (): Promise<void> {
    clearInterval(this.sweeper)
  }

  /** Sends remembered now (for tests). */
  size (): number {
    return this.sends.size
  }

  private seconds (): number {
    return Math.floor((this.now() - this.startedAt) / 1000)
  }

  private record (text: string, send: string): void {
    // counted before it is set: at the bound, setting it disposes of the oldest, which may be of this very text
    if (!this.sends.has(send)) this.chatCounts.set(text, (this.chatCounts.get(text) ?? 0) + 1)
    this.sends.set(send, this.seconds())
  }

  /** Drops the sends that left the window, oldest first, stopping at the first one still in it. */
  private forgetOld (now: number): void {
    const since = now - WINDOW_SECONDS
    for (;;) {
      // a fresh look at the oldest each time: an iterator is not promised to survive the deletes
      const oldest = this.sends.rkeys().next()
      if (oldest.done === true || (this.sends.peek(oldest.value) ?? since) >= since) return
      this.sends.delete(oldest.value)
    }
  }

  private uncount (send: string): void {
    const text = send.slice(0, send.lastIndexOf('\u0000'))
    const left = (this.chatCounts.get(text) ?? 1) - 1
    if (left > 0) this.chatCounts.set(text, left)
    else this.chatCounts.delete(text)
  }
}

function sendKey (text: string, chatId: string): string {
  return `${text}\u0000${chatId}`
}

/** One sender's text: 128 bits of the fingerprint are as unique as its 256, in half the memory. */
export function textKey (senderKey: string, fingerprint: string): string {
  return `${senderKey}\u0000${fingerprint.slice(0, 22)}`
}
