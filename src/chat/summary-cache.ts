// Owns the grouped inbox's cache of seller-side chat summaries as JSON text, each kept under the row version it was printed from.
import { LRUCache } from 'lru-cache'

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
 * by `maxBytes` (JSON bytes plus ENTRY_OVERHEAD each), least recently used first (lru-cache: constant time per hit
 * and per eviction). A hand-made second-chance clock over a Map cost more than the rest of a page once the cache was
 * full: a Map used as a queue keeps its deleted entries until it is rebuilt, and every eviction walked past them
 * (23 % of the service's CPU over the pages of a 20,000-chat inbox).
 */
export class SummaryCache {
  private readonly lru: LRUCache<string, CachedSummary>

  constructor (maxBytes: number) {
    this.lru = new LRUCache<string, CachedSummary>({ maxSize: maxBytes, sizeCalculation: cost })
  }

  /** The chat's summary if it was printed from this version of its row. */
  get (chatId: string, version: string): CachedSummary | undefined {
    const summary = this.lru.get(chatId)
    return summary?.version === version ? summary : undefined
  }

  /** Keeps the summary (as the most recently used), replacing the chat's older one; one larger than the cache is not kept. */
  set (chatId: string, summary: CachedSummary): void {
    this.lru.delete(chatId)
    if (cost(summary) > this.lru.maxSize) return
    this.lru.set(chatId, summary)
  }

  get size (): number { return this.lru.size }

  /** Bytes held, as charged against maxBytes. */
  get heldBytes (): number { return this.lru.calculatedSize }
}

const cost = (summary: CachedSummary): number => summary.bytes + ENTRY_OVERHEAD
