// Owns the listing details a chat shows (title, price, currency, image, link): checked out of the marketplace's lookup answer, never taken from a buyer.
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import { cleanPlainLine } from './display-name.js'
import { isStorableText } from './storable-text.js'
import type { ListingDetails } from './schemas.js'

export const MAX_TITLE_LENGTH = 200
const MAX_URL_LENGTH = 2048
const PRICE = /^-?\d{1,15}(\.\d{1,6})?$/
const CURRENCY = /^[A-Za-z]{3}$/

/** A link shown to sellers: absolute http(s) only (no javascript:, data: or relative tricks), storable, bounded. */
export function safeUrl (value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_URL_LENGTH || !isStorableText(value)) return null
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  if (url.username !== '' || url.password !== '') return null
  return url.href
}

function price (value: unknown): string | null {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value.trim() : null
  return text !== null && PRICE.test(text) ? text : null
}

/** The details of a lookup answer body; a field that fails its check is null, the rest still count. */
export function listingDetailsOf (body: Record<string, unknown>): ListingDetails {
  return {
    title: cleanPlainLine(body.title, MAX_TITLE_LENGTH),
    price: price(body.price),
    currency: typeof body.currency === 'string' && CURRENCY.test(body.currency) ? body.currency.toUpperCase() : null,
    image_url: safeUrl(body.image_url),
    url: safeUrl(body.url)
  }
}

export const NO_DETAILS: ListingDetails = { title: null, price: null, currency: null, image_url: null, url: null }

/** The chat row's columns for these details, stamped as fetched now. */
export function listingColumns (details: ListingDetails): {
  listing_title: string | null
  listing_price: string | null
  listing_currency: string | null
  listing_image_url: string | null
  listing_url: string | null
  listing_fetched_at: Date
} {
  return {
    listing_title: details.title,
    listing_price: details.price,
    listing_currency: details.currency,
    listing_image_url: details.image_url,
    listing_url: details.url,
    listing_fetched_at: new Date()
  }
}

/** Stores the details on every chat of this listing with this seller, with the time they were fetched. */
export async function storeListingDetails (db: Kysely<Database>, listingId: string, sellerId: string, details: ListingDetails): Promise<void> {
  await db.updateTable('chats')
    .set(listingColumns(details))
    .where('listing_id', '=', listingId).where('seller_id', '=', sellerId)
    .execute()
}
