// Owns the same-text limit's memory on one instance: which chats each sender's texts went into in the last minutes.

export const SAME_TEXT_WINDOW_MINUTES = 10
export const SAME_TEXT_WINDOW_MS = SAME_TEXT_WINDOW_MINUTES * 60_000
const WINDOW_SECONDS = SAME_TEXT_WINDOW_MS / 1000

/**
 * Texts remembered at most. Past it the least recently sent text is forgotten first: a spammer repeating one text keeps
 * it fresh, so under a flood of distinct texts the window shortens only for texts nobody repeats. About 500 bytes
 * each (measured), so 50 MB at most.
 */
export const SAME_TEXT_MAX_TEXTS = 100_000

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
  maxTexts?: number
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number
}

/**
 * The chats one text went into and when (seconds since the window started, small integers V8 stores unboxed), as two
 * short arrays: most texts go into a single chat, and a Map per text cost over a kilobyte each.
 */
class Sends {
  // Literals of one: an empty array grown by push reserves room for 16.
  readonly chats: string[]
  readonly times: number[]

  constructor (chatId: string, at: number) {
    this.chats = [chatId]
    this.times = [at]
  }

  newest (): number {
    return this.times[this.times.length - 1] ?? -Infinity
  }

  /** Moves the chat to the end as sent now, so the arrays stay in time order. */
  put (chatId: string, at: number): void {
    this.remove(this.chats.indexOf(chatId))
    this.chats.push(chatId)
    this.times.push(at)
  }

  /** Drops the sends before `since` (they lead the arrays) and counts the rest but `chatId`. */
  othersSince (since: number, chatId: string): number {
    let old = 0
    while (old < this.times.length && (this.times[old] as number) < since) old++
    if (old > 0) { this.chats.splice(0, old); this.times.splice(0, old) }
    return this.chats.length - (this.chats.includes(chatId) ? 1 : 0)
  }

  private remove (index: number): void {
    if (index < 0) return
    this.chats.splice(index, 1)
    this.times.splice(index, 1)
  }
}

export class LocalTextWindow implements SameTextWindow {
  /** By sender and text, in the order each was last counted in: the front is what leaves the window first. */
  private readonly texts = new Map<string, Sends>()
  private readonly maxTexts: number
  private readonly now: () => number
  private readonly startedAt: number
  private readonly sweeper: NodeJS.Timeout

  constructor (options: LocalTextWindowOptions = {}) {
    this.maxTexts = options.maxTexts ?? SAME_TEXT_MAX_TEXTS
    this.now = options.now ?? Date.now
    this.startedAt = this.now()
    this.sweeper = setInterval(() => { this.forgetOld(this.seconds()) }, SWEEP_MS).unref()
  }

  claimNow (senderKey: string, fingerprint: string, chatId: string, limit: number): number {
    const now = this.seconds()
    this.forgetOld(now)
    const key = textKey(senderKey, fingerprint)
    const sends = this.texts.get(key)
    const others = sends?.othersSince(now - WINDOW_SECONDS, chatId) ?? 0
    if (others < limit) this.record(key, sends, chatId, now)
    return others
  }

  addNow (senderKey: string, fingerprint: string, chatId: string): void {
    const key = textKey(senderKey, fingerprint)
    this.record(key, this.texts.get(key), chatId, this.seconds())
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

  /** Texts remembered now (for tests and metrics). */
  size (): number {
    return this.texts.size
  }

  private seconds (): number {
    return Math.floor((this.now() - this.startedAt) / 1000)
  }

  private record (key: string, sends: Sends | undefined, chatId: string, now: number): void {
    // Deleted and set again, so the map stays ordered by when each text was last counted.
    this.texts.delete(key)
    if (sends === undefined) this.texts.set(key, new Sends(chatId, now))
    else { sends.put(chatId, now); this.texts.set(key, sends) }
    if (this.texts.size > this.maxTexts) {
      const oldest = this.texts.keys().next()
      if (oldest.done !== true) this.texts.delete(oldest.value)
    }
  }

  /** Drops texts whose last send left the window; they lead the map, so this stops at the first one still in it. */
  private forgetOld (now: number): void {
    const since = now - WINDOW_SECONDS
    for (const [key, sends] of this.texts) {
      if (sends.newest() >= since) return
      this.texts.delete(key)
    }
  }
}

/** One sender's text: 128 bits of the fingerprint are as unique as its 256, in half the memory. */
export function textKey (senderKey: string, fingerprint: string): string {
  return `${senderKey}\u0000${fingerprint.slice(0, 22)}`
}
