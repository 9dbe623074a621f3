// Owns the inbox WebSocket route: refuse bad tokens (401) and one socket too many (429) before upgrading, then hand the socket
// to InboxConnection.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'
import { callerOf } from '../plugins/auth.js'
import { InboxConnection } from '../realtime/inbox-connection.js'
import { startSession } from '../realtime/socket-session.js'
import { releaseUpgradeRequest } from './upgraded-socket.js'

const Query = Type.Object({
  token: Type.Optional(Type.String({ description: 'Bearer token (or send it as the Sec-WebSocket-Protocol value)' }))
})

const wsInboxRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  // Shared with the other WebSocket route: one catch-up limiter per instance.
  const deps = app.realtimeDeps

  // A static segment outranks /ws/:chat_id in the router, so "inbox" is never taken for a chat id.
  app.route({
    method: 'GET',
    url: '/ws/inbox',
    schema: { querystring: Query, hide: true },
    preHandler: [app.authenticateSocket, app.reserveSocket],
    handler: async () => { throw new AppError('upgrade_required', 'Open this URL with a WebSocket') },
    wsHandler: (socket, request) => {
      const identity = callerOf(request)
      const slot = request.socketSlot
      releaseUpgradeRequest(socket, request)
      startSession(socket, identity, 'inbox', new InboxConnection(deps, identity), {
        registry: app.connections,
        maxBufferedBytes: config.ws.maxBufferedBytes,
        expiresAt: request.tokenExpiresAt,
        verifyToken: app.verifySocketToken,
        release: async () => { await slot?.release() }
      })
    }
  })
}

export default wsInboxRoutes
