// Owns minting anonymous buyer sessions: a fresh uuid and a token signed by this service.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Config } from '../config.js'
import { ErrorResponse } from '../http/schemas.js'

const anonymousRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  app.post('/anonymous', {
    config: { rateLimit: { max: config.rateLimit.anonymousPerMinute, timeWindow: 60_000 } },
    schema: {
      tags: ['identity'],
      summary: 'Start an anonymous buyer session (keep the token in localStorage and send it as a Bearer token)',
      response: {
        201: Type.Object({ buyer_id: Type.String({ format: 'uuid' }), token: Type.String() }),
        429: ErrorResponse
      }
    }
  }, async (_request, reply) => {
    return await reply.status(201).send(app.tokens.mintAnonymous())
  })
}

export default anonymousRoutes
