// Owns the grouped inbox's cache of seller-side chat summaries as JSON text, each kept under the row version it was printed from.

/** One chat as the grouped inbox prints it, and what it adds to its listing's group. */
export interface CachedSummary {
  /** the chats row's xmin when the summary was printed */
  version: string
  /** JSON.stringify of the seller's summary */
  json: string
  /**
   * Its length in UTF-8, so a 2,000-chat answer is sized and written into one buffer without being measured again.
   * Kept as text, not bytes: the same CPU per answer (measured), without an ArrayBuffer per cached summary.
   */
  bytes: number
  /** the seller's unread count; 0 for a chat the seller blocked, which never counts toward its group */
  unread: number
  /** last_message_time, else created_at: the group's time when this chat is its newest */
  groupTime: string
}

/** Bytes a cached summary is charged for beyond its JSON's UTF-8 length: key, version and entry object, roughly. */
const ENTRY_OVERHEAD = 160

/**
 * Every field of a seller's summary is a column of the chat's row, and every committed change to a row gives it a new
 * xmin (the version), so a summary kept under its version is the summary of the row as long as the row still has that
 * version. (Two updates in one transaction share an xmin, but only the last is ever visible to another; an xmin comes
 * round again only after 2^32 transactions, and any read of the chat in between replaces the entry.) A hot seller's
 * inbox is then read as ids and versions, and only the chats that changed since are read and printed again. Bounded
 * by `maxBytes` (JSON bytes plus ENTRY_OVERHEAD each); what goes first when full is chosen by second chance,
 * a near LRU whose hit costs a flag instead of moving the entry (2,000 hits per inbox read).
 */
export class SummaryCache {
  // Insertion order is the clock's order: the first key is the next one considered for eviction.
  private readonly slots = new Map<string, { summary: CachedSummary, used: boolean }>()
  private bytes = 0

  constructor (private readonly maxBytes: number) {}

  /** The chat's summary if it was printed from this version of its row. */
  get (chatId: string, version: string): CachedSummary | undefined {
    const slot = this.slots.get(chatId)
    if (slot === undefined || slot.summary.version !== version) return undefined
    slot.used = true
    return slot.summary
  }

  set (chatId: string, summary: CachedSummary): void {
    this.remove(chatId)
    if (cost(summary) > this.maxBytes) return
    // counted as read: it was printed to be sent, and a full cache must not drop it first
    this.slots.set(chatId, { summary, used: true })
    this.bytes += cost(summary)
    while (this.bytes > this.maxBytes) {
      const [id, slot] = this.slots.entries().next().value as [string, { summary: CachedSummary, used: boolean }]
      this.slots.delete(id)
      if (slot.used) {
        // read since it was last considered: to the back once, and the next one is considered
        slot.used = false
        this.slots.set(id, slot)
      } else {
        this.bytes -= cost(slot.summary)
      }
    }
  }

  get size (): number { return this.slots.size }

  /** Bytes held, as charged against maxBytes. */
  get heldBytes (): number { return this.bytes }

  private remove (chatId: string): void {
    const old = this.slots.get(chatId)
    if (old === undefined) return
    this.slots.delete(chatId)
    this.bytes -= cost(old.summary)
  }
}

const cost = (summary: CachedSummary): number => summary.bytes + ENTRY_OVERHEAD
