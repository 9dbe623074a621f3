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
    /** preHandler for routes that need a caller. */
    authenticate: (request: FastifyRequest) => Promise<void>
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
  if (config.auth.usingDevSecrets) {
    app.log.warn('AUTH_JWT_SECRET/ANON_TOKEN_SECRET not set: using development secrets; never do this in production')
  }
}, { name: 'auth' })
