// Owns request authentication: the bearer token is verified once and becomes request.identity; nothing else decides who a caller is.
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Identity } from '../auth/identity.js'
import { createTokenService, type TokenService } from '../auth/token-service.js'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService
    /** Hook for routes that need a caller; use it as preValidation so a missing token is a 401 before any 400. */
    authenticate: (request: FastifyRequest) => Promise<void>
    /** preHandler for WebSocket routes: the token may also come as ?token= or as the Sec-WebSocket-Protocol value. */
    authenticateSocket: (request: FastifyRequest) => Promise<void>
  }
  interface FastifyRequest {
    identity: Identity | null
  }
}

/** The caller of an authenticated route; routes without the authenticate preHandler never call this. */
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
  app.decorateRequest('identity', null)
  app.decorate('authenticate', async (request: FastifyRequest) => {
    const token = bearerToken(request)
    if (token === null) throw new AppError('unauthorized', 'Send Authorization: Bearer <token>')
    const identity = tokens.verify(token)
    assertNoConflictingCompatIds(request, identity)
    request.identity = identity
  })
  app.decorate('authenticateSocket', async (request: FastifyRequest) => {
    const token = socketToken(request)
    if (token === null) throw new AppError('unauthorized', 'Send the token as ?token= or as the Sec-WebSocket-Protocol value')
    request.identity = tokens.verify(token)
  })
  if (config.auth.usingDevSecrets) {
    app.log.warn('AUTH_JWT_SECRET/ANON_TOKEN_SECRET not set: using development secrets; never do this in production')
  }
}, { name: 'auth' })
