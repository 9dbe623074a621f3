// Owns POST /demo/token: in demo mode only, a registered-user token for the sample pages (demo- ids only).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'
import { ErrorResponse } from '../http/schemas.js'

const demoTokenRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  if (!config.demo) return

  app.post('/demo/token', {
    schema: {
      tags: ['demo'],
      summary: 'Demo mode only: a registered-user token for the sample pages (ids starting with demo- only)',
      // Only demo identities, so a demo deployment can never mint a token for a real marketplace user.
      body: Type.Object({ user_id: Type.String({ pattern: '^demo-[A-Za-z0-9_-]{1,60}$' }) }),
      response: { 200: Type.Object({ token: Type.String(), user_id: Type.String() }), 503: ErrorResponse }
    }
  }, async (request) => {
    const userId = request.body.user_id
    try {
      return { token: app.tokens.mintRegistered(userId, 12 * 60 * 60 * 1000), user_id: userId }
    } catch {
      throw new AppError('service_unavailable', 'Demo tokens need AUTH_JWT_SECRET (HS256)')
    }
  })
}

export default demoTokenRoutes
