// Owns asking the marketplace whether a listing exists, is active and belongs to the seller, with a short timeout and a small cache.
import { LRUCache } from 'lru-cache'
import type { ListingLookupConfig } from '../config.js'
import { AppError } from '../errors.js'
import { listingDetailsOf } from './listing-details.js'
import type { ListingDetails } from './schemas.js'

export interface ListingInfo {
  exists: boolean
  active: boolean
  sellerId: string | null
  /** What the chat shows about the listing (each field checked; null when the answer lacks it or it fails the check). */
  details?: ListingDetails
}

export type ListingLookup = (listingId: string) => Promise<ListingInfo>

const MAX_CACHE_ENTRIES = 10_000

/**
 * The marketplace endpoint answers 404 for an unknown listing, or 200 with
 * {"seller_id": "...", "active": true} (also accepted: "status": "active"), optionally with the details a chat
 * shows: "title", "price", "currency", "image_url", "url".
 */
export function createListingLookup (config: ListingLookupConfig, fetchImpl: typeof fetch = fetch): ListingLookup {
  // Least recently asked for goes first when full (lru-cache: a Map used as a queue walks past its deleted entries).
  const cache = config.cacheSeconds > 0 ? new LRUCache<string, ListingInfo>({ max: MAX_CACHE_ENTRIES, ttl: config.cacheSeconds * 1000 }) : null
  return async (listingId) => {
    const cached = cache?.get(listingId)
    if (cached !== undefined) return cached
    const url = config.urlTemplate.replace('{listing_id}', encodeURIComponent(listingId))
    let info: ListingInfo
    try {
      const signal = AbortSignal.timeout(config.timeoutMs)
      const get = async (): Promise<Response> => await fetchImpl(url, { signal, headers: { accept: 'application/json' } })
      // A kept-alive connection the marketplace closed just as we reused it fails before any answer: a GET is safe to
      // send once more (within the same time budget), instead of refusing the buyer's chat.
      const response = await get().catch(async (error: unknown) => {
        if (signal.aborted) throw error
        return await get()
      })
      if (response.status === 404 || response.status === 410) {
        info = { exists: false, active: false, sellerId: null }
      } else if (!response.ok) {
        throw new Error(`listing lookup answered ${response.status}`)
      } else {
        const body = await response.json() as Record<string, unknown>
        const sellerId = body.seller_id ?? body.sellerId ?? body.user_id
        const active = typeof body.active === 'boolean' ? body.active : body.status === undefined || body.status === 'active'
        info = { exists: true, active, sellerId: sellerId === undefined || sellerId === null ? null : String(sellerId), details: listingDetailsOf(body) }
      }
    } catch (error) {
      throw new AppError('listing_lookup_unavailable', 'Cannot check the listing right now; try again shortly', { cause: error })
    }
    cache?.set(listingId, info)
    return info
  }
}

export function assertListingAllowsChat (info: ListingInfo, sellerId: string): void {
  if (!info.exists) throw new AppError('listing_not_found', 'Listing not found')
  if (info.sellerId !== null && info.sellerId !== sellerId) throw new AppError('seller_mismatch', 'This listing belongs to another seller')
  if (!info.active) throw new AppError('listing_inactive', 'This listing is no longer active')
}
