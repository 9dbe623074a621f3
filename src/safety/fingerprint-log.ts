// Owns the same-text limit's memory: what each sender's texts went into, checked by a read and written in batches.
import { identityKey, type Identity } from '../auth/identity.js'
import type { Db } from '../chat/chat-repository.js'
import * as repo from './safety-repository.js'

/** How long a recorded send waits to be written with others; an instance's own sends count at once regardless. */
const FLUSH_DELAY_MS = 100
/** Written at once past this many, so a burst does not hold memory for the delay. */
const FLUSH_AT = 500
/** Checks answered by one read at most. */
const READ_AT_MOST = 500
/** How often rows that left the window are deleted. */
const PRUNE_INTERVAL_MS = 60_000

export interface FingerprintLogOptions {
  db: Db
  onFlushError: (error: unknown) => void
}

/**
 * Writing each send's fingerprint in a statement of its own cost a commit per message, which undid the send path's
 * group commit (a quarter of the throughput at 2,000 msg/s). Here the check is a read shared by every send waiting
 * for it (as the send batcher shares its statement), and the writes of all sends in FLUSH_DELAY_MS go out as one
 * statement. This instance's sends count from the moment they are recorded until their write commits, so sequential
 * sends are never missed; another instance sees them up to FLUSH_DELAY_MS late, which only moves a spammer's refusal by a message.
 */
/** One sender's text, and the chats it went into that are not in the table yet. */
interface Unwritten { senderKey: string, fingerprint: string, chats: Set<string> }
type UnwrittenByText = Map<string, Unwritten>

export class FingerprintLog {
  /** Recorded, waiting for the next write; and the writes under way (their rows count until they are committed). */
  private pending: UnwrittenByText = new Map()
  private pendingRows = 0
  private readonly writing = new Set<UnwrittenByText>()
  private timer: NodeJS.Timeout | null = null
  private flushing: Promise<void> = Promise.resolve()
  private asked: Array<{ key: repo.TextKey, resolve: (chats: string[]) => void, reject: (error: unknown) => void }> = []
  private reading = false

  private readonly pruner: NodeJS.Timeout
  private pruning: Promise<void> | null = null

  constructor (private readonly options: FingerprintLogOptions) {
    this.pruner = setInterval(() => { this.prune() }, PRUNE_INTERVAL_MS).unref()
  }

  private prune (): void {
    this.pruning ??= repo.pruneFingerprints(this.options.db)
      .then(() => {}, (error: unknown) => { this.options.onFlushError(error) })
      .finally(() => { this.pruning = null })
  }

  /** Other chats that got this text from this sender within the window. */
  async otherChats (sender: Identity, fingerprint: string, chatId: string): Promise<number> {
    const senderKey = identityKey(sender)
    const chats = new Set(await this.lookup(senderKey, fingerprint))
    const key = textKey(senderKey, fingerprint)
    for (const unwritten of [this.pending, ...this.writing]) {
      for (const chat of unwritten.get(key)?.chats ?? []) chats.add(chat)
    }
    chats.delete(chatId)
    return chats.size
  }

  /**
   * Joins the next read: one is in flight at a time, and the next takes every check that arrived meanwhile. The
   * first waits for the end of the event-loop turn, so every frame read in it shares that read: on PGlite a read runs
   * to its end inside the microtasks of the frame that asked, so nothing else could join it, and each send paid a
   * read of its own (21,000 reads for 21,000 messages at 2,000 msg/s, more database time than the send statement).
   */
  private async lookup (senderKey: string, fingerprint: string): Promise<string[]> {
    return await new Promise((resolve, reject) => {
      this.asked.push({ key: { senderKey, fingerprint }, resolve, reject })
      if (this.reading) return
      this.reading = true
      setImmediate(() => { void this.read() })
    })
  }

  private async read (): Promise<void> {
    while (this.asked.length > 0) {
      const batch = this.asked.splice(0, READ_AT_MOST)
      try {
        const rows = await repo.chatsWithTexts(this.options.db, batch.map((ask) => ask.key))
        for (const ask of batch) {
          ask.resolve(rows.filter((row) => row.senderKey === ask.key.senderKey && row.fingerprint === ask.key.fingerprint).map((row) => row.chatId))
        }
      } catch (error) {
        for (const ask of batch) ask.reject(error)
      }
    }
    this.reading = false
  }

  record (sender: Identity, fingerprint: string, chatId: string): void {
    const senderKey = identityKey(sender)
    const key = textKey(senderKey, fingerprint)
    let unwritten = this.pending.get(key)
    if (unwritten === undefined) this.pending.set(key, unwritten = { senderKey, fingerprint, chats: new Set() })
    if (!unwritten.chats.has(chatId)) { unwritten.chats.add(chatId); this.pendingRows++ }
    if (this.pendingRows >= FLUSH_AT) this.flush()
    else this.timer ??= setTimeout(() => { this.flush() }, FLUSH_DELAY_MS).unref()
  }

  /** Writes what is pending; resolves when every write started so far has finished (for shutdown). */
  async close (): Promise<void> {
    clearInterval(this.pruner)
    this.flush()
    await Promise.all([this.flushing, this.pruning])
  }

  private flush (): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    if (this.pendingRows === 0) return
    const batch = this.pending
    this.pending = new Map()
    this.pendingRows = 0
    this.writing.add(batch)
    // Distinct by (sender, fingerprint, chat), as the upsert needs: one Set of chats per text.
    const rows = [...batch.values()].flatMap(({ senderKey, fingerprint, chats }) => [...chats].map((chatId) => ({ senderKey, fingerprint, chatId })))
    this.flushing = this.flushing
      .then(async () => { await repo.recordFingerprints(this.options.db, rows) })
      .catch((error: unknown) => { this.options.onFlushError(error) })
      .finally(() => { this.writing.delete(batch) })
  }
}

function textKey (senderKey: string, fingerprint: string): string {
  return `${senderKey}\u0000${fingerprint}`
}
