// Owns tokens: verifying the marketplace's JWTs, and minting and verifying this service's anonymous buyer tokens.
import { createDecoder, createSigner, createVerifier, type Algorithm } from 'fast-jwt'
import { v4 as uuidv4 } from 'uuid'
import { cleanDisplayName } from '../chat/display-name.js'
import { isStorableText, MAX_ID_LENGTH } from '../chat/storable-text.js'
import type { AuthConfig } from '../config.js'
import { AppError } from '../errors.js'
import type { Identity } from './identity.js'

const ANON_ISSUER = 'marketplace-chat/anonymous'
// An anonymous identity is worth keeping: the browser holds it in localStorage to find its chats again.
const ANON_TOKEN_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000

export interface AnonymousSession {
  buyer_id: string
  token: string
}

/** A verified token: who it names, and when it stops being valid (ms since the epoch, from its exp claim). */
export interface VerifiedToken {
  identity: Identity
  expiresAt: number
  /** The registered user's display name (AUTH_JWT_NAME_CLAIM), cleaned; null for guests and nameless tokens. */
  displayName: string | null
}

export interface TokenService {
  verify: (token: string) => Identity
  /** verify, plus the expiry: an open socket lives no longer than the token it presented. */
  verifyWithExpiry: (token: string) => VerifiedToken
  mintAnonymous: () => AnonymousSession
  /** Registered-user tokens for demo mode and tests; only possible with an HS256 secret. */
  mintRegistered: (userId: string, expiresInMs?: number, displayName?: string) => string
}

const unauthorized = (message: string): AppError => new AppError('unauthorized', message)

// Both verifiers require exp, so it is there; a number is all that is left to check.
function expiryOf (claims: Record<string, unknown>): number {
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw unauthorized('Token has no usable "exp" claim')
  return claims.exp * 1000
}

export function createTokenService (config: AuthConfig): TokenService {
  const decode = createDecoder()
  const registeredAlgorithms: Algorithm[] = config.jwtPublicKey !== null ? ['RS256', 'ES256'] : ['HS256']
  const verifyRegistered = createVerifier({
    key: config.jwtPublicKey ?? config.jwtSecret ?? '',
    algorithms: registeredAlgorithms,
    // A token without an expiry would be valid forever; the marketplace must set one. fast-jwt checks iss/aud only
    // when the claim is present, so a configured issuer or audience must also be required, or omitting it would pass.
    requiredClaims: [
      'exp',
      config.userClaim,
      ...(config.issuer === null ? [] : ['iss']),
      ...(config.audience === null ? [] : ['aud'])
    ],
    ...(config.issuer === null ? {} : { allowedIss: config.issuer }),
    ...(config.audience === null ? {} : { allowedAud: config.audience }),
    cache: 1000
  })
  const verifyAnonymous = createVerifier({
    key: config.anonTokenSecret,
    algorithms: ['HS256'],
    allowedIss: ANON_ISSUER,
    requiredClaims: ['exp', 'sub', 'anon'],
    cache: 1000
  })
  const signAnonymous = createSigner({ key: config.anonTokenSecret, algorithm: 'HS256', iss: ANON_ISSUER, expiresIn: ANON_TOKEN_LIFETIME_MS })
  const signRegistered = config.jwtSecret === null
    ? null
    : createSigner({
      key: config.jwtSecret,
      algorithm: 'HS256',
      ...(config.issuer === null ? {} : { iss: config.issuer }),
      ...(config.audience === null ? {} : { aud: config.audience })
    })

  function verifyWithExpiry (token: string): VerifiedToken {
    let claims: Record<string, unknown>
    try {
      // Peeking at the unverified issuer only chooses which key verifies; nothing is trusted before that.
      const issuer = (decode(token) as Record<string, unknown>).iss
      claims = issuer === ANON_ISSUER ? verifyAnonymous(token) : verifyRegistered(token)
    } catch (error) {
      const code = (error as { code?: string }).code
      throw unauthorized(code === 'FAST_JWT_EXPIRED' ? 'Token has expired' : 'Token is missing, malformed or not validly signed')
    }
    if (claims.iss === ANON_ISSUER) {
      if (claims.anon !== true || typeof claims.sub !== 'string' || !isStorableText(claims.sub)) throw unauthorized('Token is not a valid anonymous session')
      return { identity: { userId: claims.sub, registered: false }, expiresAt: expiryOf(claims), displayName: null }
    }
    const userId = claims[config.userClaim]
    // A user id is stored with every chat and message: one the database cannot hold names nobody (401), and must
    // not reach a query, where it would fail as a 500 (and in a shared send batch, for others too).
    const id = String(userId)
    if ((typeof userId !== 'string' && typeof userId !== 'number') || id === '' || id.length > MAX_ID_LENGTH || !isStorableText(id)) {
      throw unauthorized(`Token has no usable "${config.userClaim}" claim`)
    }
    const roles = claims[config.rolesClaim]
    const granted = Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : []
    return { identity: { userId: id, registered: true, ...(granted.length > 0 ? { roles: granted } : {}) }, expiresAt: expiryOf(claims), displayName: cleanDisplayName(claims[config.nameClaim]) }
  }

  return {
    verify: (token) => verifyWithExpiry(token).identity,
    verifyWithExpiry,
    mintAnonymous () {
      const buyerId = uuidv4()
      return { buyer_id: buyerId, token: signAnonymous({ sub: buyerId, anon: true }) }
    },
    mintRegistered (userId, expiresInMs = 60 * 60 * 1000, displayName) {
      if (signRegistered === null) throw new Error('registered tokens can only be minted with an HS256 secret')
      return signRegistered({
        [config.userClaim]: userId,
        exp: Math.floor((Date.now() + expiresInMs) / 1000),
        ...(displayName === undefined ? {} : { [config.nameClaim]: displayName })
      })
    }
  }
}
