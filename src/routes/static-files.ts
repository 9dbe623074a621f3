// Owns serving the embeddable front-end (static/chat.js, static/seller-chats.js) and, in demo mode, the demo pages and demo tokens.
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'
import { staticDir } from '../paths.js'
import { ErrorResponse } from './schemas.js'

const staticRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  // Host pages load the widget on every view: let browsers keep it an hour and revalidate by ETag after that.
  await app.register(fastifyStatic, {
    root: staticDir,
    prefix: '/static/',
    etag: true,
    maxAge: '1h',
    index: false,
    allowedPath: (pathName) => config.demo || !pathName.startsWith('/demo')
  })

  if (!config.demo) return

  app.get('/demo', async (_request, reply) => await reply.redirect('/demo/'))
  app.get('/demo/', async (_request, reply) => await reply.sendFile('demo/index.html'))
  app.get('/demo/seller', async (_request, reply) => await reply.sendFile('demo/seller.html'))

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

export default staticRoutes
