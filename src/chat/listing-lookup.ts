// Owns asking the marketplace whether a listing exists, is active and belongs to the seller, with a short timeout and a small cache.
import type { ListingLookupConfig } from '../config.js'
import { AppError } from '../errors.js'

export interface ListingInfo {
  exists: boolean
  active: boolean
  sellerId: string | null
}

export type ListingLookup = (listingId: string) => Promise<ListingInfo>

const MAX_CACHE_ENTRIES = 10_000

/**
 * The marketplace endpoint answers 404 for an unknown listing, or 200 with
 * {"seller_id": "...", "active": true} (also accepted: "status": "active").
 */
export function createListingLookup (config: ListingLookupConfig, fetchImpl: typeof fetch = fetch): ListingLookup {
  const cache = new Map<string, { info: ListingInfo, expires: number }>()
  return async (listingId) => {
    const cached = cache.get(listingId)
    if (cached !== undefined && cached.expires > Date.now()) return cached.info
    const url = config.urlTemplate.replace('{listing_id}', encodeURIComponent(listingId))
    let info: ListingInfo
    try {
      const response = await fetchImpl(url, { signal: AbortSignal.timeout(config.timeoutMs), headers: { accept: 'application/json' } })
      if (response.status === 404 || response.status === 410) {
        info = { exists: false, active: false, sellerId: null }
      } else if (!response.ok) {
        throw new Error(`listing lookup answered ${response.status}`)
      } else {
        const body = await response.json() as Record<string, unknown>
        const sellerId = body.seller_id ?? body.sellerId ?? body.user_id
        const active = typeof body.active === 'boolean' ? body.active : body.status === undefined || body.status === 'active'
        info = { exists: true, active, sellerId: sellerId === undefined || sellerId === null ? null : String(sellerId) }
      }
    } catch (error) {
      throw new AppError('listing_lookup_unavailable', 'Cannot check the listing right now; try again shortly', { cause: error })
    }
    if (cache.size >= MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string)
    cache.set(listingId, { info, expires: Date.now() + config.cacheSeconds * 1000 })
    return info
  }
}

export function assertListingAllowsChat (info: ListingInfo, sellerId: string): void {
  if (!info.exists) throw new AppError('listing_not_found', 'Listing not found')
  if (info.sellerId !== null && info.sellerId !== sellerId) throw new AppError('seller_mismatch', 'This listing belongs to another seller')
  if (!info.active) throw new AppError('listing_inactive', 'This listing is no longer active')
}
