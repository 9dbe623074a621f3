// Owns request authentication: the bearer token is verified once and becomes request.identity; nothing else decides who a caller is.
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Identity } from '../auth/identity.js'
import { ClaimedGuests } from '../auth/claimed-guests.js'
import { createTokenService, type TokenService, type VerifiedToken } from '../auth/token-service.js'
import { isClaimedGuest } from '../chat/claim-repository.js'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService
    /** Guest identities a registered user claimed: their tokens are refused (401 token_claimed). */
    claimedGuests: ClaimedGuests
    /** Hook for routes that need a caller; use it as preValidation so a missing token is a 401 before any 400. */
    authenticate: (request: FastifyRequest) => Promise<void>
    /** preHandler for WebSocket routes: the token may also come as ?token= or as the Sec-WebSocket-Protocol value. */
    authenticateSocket: (request: FastifyRequest) => Promise<void>
    /** Run on every verified identity, REST and socket upgrades alike; one that throws refuses the request (a ban). */
    identityChecks: Array<(identity: Identity) => Promise<void>>
    /** A token presented on an open socket (an auth frame): verified, and its person checked as an upgrade's would be. */
    verifySocketToken: (token: string) => Promise<VerifiedToken>
  }
  interface FastifyRequest {
    identity: Identity | null
    /** When the socket token of a WebSocket upgrade expires (ms since the epoch); the socket is closed then. */
    tokenExpiresAt: number | null
    /** The caller's display name from their token (registered users only), cleaned; null without one. */
    displayName: string | null
  }
}

/** The caller of an authenticated route; only routes with authenticate (preValidation) or authenticateSocket (preHandler) call this. */
export function callerOf (request: FastifyRequest): Identity {
  if (request.identity === null) throw new AppError('unauthorized', 'Authentication required')
  return request.identity
}

export function bearerToken (request: FastifyRequest): string | null {
  const header = request.headers.authorization
  if (header === undefined) return null
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1] ?? null
}

/**
 * Browsers cannot set headers on a WebSocket, so the token rides in the query or as the offered subprotocol
 * (the first one offered, which is also the one the server echoes back).
 */
export function socketToken (request: FastifyRequest): string | null {
  const query = request.query as Record<string, unknown> | null
  if (typeof query?.token === 'string' && query.token !== '') return query.token
  const offered = request.headers['sec-websocket-protocol']
  const first = typeof offered === 'string' ? offered.split(',')[0]?.trim() : undefined
  if (first !== undefined && first !== '') return first
  return bearerToken(request)
}

// Seed-era clients still send these; they may only repeat what the token says, never change it.
function assertNoConflictingCompatIds (request: FastifyRequest, identity: Identity): void {
  for (const source of [request.query, request.body]) {
    if (source === null || typeof source !== 'object') continue
    const claimed = (source as Record<string, unknown>).user_id
    if (claimed !== undefined && String(claimed) !== identity.userId) {
      throw new AppError('forbidden', 'user_id does not match the authenticated user')
    }
  }
}

export default fp<{ config: Config }>(async (app, { config }) => {
  const tokens = createTokenService(config.auth)
  app.decorate('tokens', tokens)
  const claimedGuests = new ClaimedGuests(async (guestId) => await isClaimedGuest(app.db, guestId))
  app.decorate('claimedGuests', claimedGuests)
  // A guest whose chats now belong to an account is nobody any more: the account's token is the way in.
  const refuseClaimed = async (identity: Identity): Promise<void> => {
    if (!identity.registered && await claimedGuests.isClaimed(identity.userId)) {
      throw new AppError('token_claimed', 'This guest session was claimed by an account; sign in to continue')
    }
  }
  app.decorateRequest('identity', null)
  app.decorateRequest('tokenExpiresAt', null)
  app.decorateRequest('displayName', null)
  // Run on every verified identity, REST and WebSocket alike: claimed guests here, bans (safety plugin) appended.
  const checks: Array<(identity: Identity) => Promise<void>> = [refuseClaimed]
  app.decorate('identityChecks', checks)
  const check = async (identity: Identity): Promise<void> => { for (const run of checks) await run(identity) }
  app.decorate('verifySocketToken', async (token: string): Promise<VerifiedToken> => {
    const verified = tokens.verifyWithExpiry(token)
    await check(verified.identity)
    return verified
  })
  app.decorate('authenticate', async (request: FastifyRequest) => {
    const token = bearerToken(request)
    if (token === null) throw new AppError('unauthorized', 'Send Authorization: Bearer <token>')
    const { identity, displayName } = tokens.verifyWithExpiry(token)
    assertNoConflictingCompatIds(request, identity)
    await check(identity)
    request.identity = displayName === null ? identity : { ...identity, displayName }
    request.displayName = displayName
  })
  app.decorate('authenticateSocket', async (request: FastifyRequest) => {
    const token = socketToken(request)
    if (token === null) throw new AppError('unauthorized', 'Send the token as ?token= or as the Sec-WebSocket-Protocol value')
    const verified = tokens.verifyWithExpiry(token)
    await check(verified.identity)
    request.identity = verified.displayName === null ? verified.identity : { ...verified.identity, displayName: verified.displayName }
    request.tokenExpiresAt = verified.expiresAt
    request.displayName = verified.displayName
  })
  if (config.auth.usingDevSecrets) {
    app.log.warn('AUTH_JWT_SECRET/ANON_TOKEN_SECRET not set: using development secrets; never do this in production')
  }
}, { name: 'auth', dependencies: ['database'] })
