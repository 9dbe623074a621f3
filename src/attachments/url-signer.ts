// Owns signed attachment URLs: an HMAC over (variant, id, expiry) with a key derived from the service's secrets, so <img> can load a photo without a header.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import type { AuthConfig } from '../config.js'

export type Variant = 'full' | 'thumb'

export class UrlSigner {
  private readonly key: Buffer

  constructor (auth: AuthConfig, private readonly ttlSeconds: number, private readonly now: () => number) {
    // A key of its own (HKDF), so a URL signature can never stand in for a token signature or the other way round.
    const secret = `${auth.anonTokenSecret}\u0000${auth.jwtSecret ?? auth.jwtPublicKey ?? ''}`
    this.key = Buffer.from(hkdfSync('sha256', secret, 'marketplace-chat', 'attachment-url-signing-v1', 32))
  }

  private sign (id: string, variant: Variant, exp: number): string {
    return createHmac('sha256', this.key).update(`${variant}:${id}:${exp}`).digest('base64url')
  }

  /** The service path with ?exp=&sig=, valid for the configured TTL from now. */
  url (id: string, variant: Variant): string {
    const exp = Math.floor(this.now() / 1000) + this.ttlSeconds
    const path = `/api/chat/attachments/${id}${variant === 'thumb' ? '/thumb' : ''}`
    return `${path}?exp=${exp}&sig=${this.sign(id, variant, exp)}`
  }

  /** Seconds the URL stays valid, or null when it is forged or expired. */
  verify (id: string, variant: Variant, exp: string | undefined, sig: string | undefined): number | null {
    if (exp === undefined || sig === undefined || !/^\d{1,12}$/.test(exp)) return null
    const remaining = Number(exp) - Math.floor(this.now() / 1000)
    if (remaining <= 0) return null
    const expected = Buffer.from(this.sign(id, variant, Number(exp)))
    const given = Buffer.from(sig)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
    return remaining
  }
}
