// Owns the per-chat WebSocket route: refuse bad tokens (401), outsiders (404) and one socket too many (429) before upgrading,
// then hand the socket to ChatConnection.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DbInteger } from '../chat/schemas.js'
import { StorableString } from '../chat/storable-text.js'
import type { Config } from '../config.js'
import type { ChatAccess } from '../chat/participants.js'
import { AppError } from '../errors.js'
import { callerOf } from '../plugins/auth.js'
import { ChatConnection } from '../realtime/chat-connection.js'
import { startSession } from '../realtime/socket-session.js'
import { releaseUpgradeRequest } from './upgraded-socket.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The chat a socket upgrade was authorised for (set by the ws-chat preHandler). */
    socketChat: ChatAccess | null
  }
}

const Params = Type.Object({ chat_id: StorableString({ description: 'Chat id (uuid)' }) })
// Checked before the upgrade: an after_seq the database cannot hold is a 400, not a socket that fails to open.
const Query = Type.Object({
  token: Type.Optional(Type.String({ description: 'Bearer token (or send it as the Sec-WebSocket-Protocol value)' })),
  after_seq: Type.Optional(DbInteger(0, { description: 'Catch up: every message after this seq comes as history' }))
})

const wsChatRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  // Shared with the other WebSocket route: one catch-up limiter per instance.
  const deps = app.realtimeDeps
  app.decorateRequest('socketChat', null)

  app.route({
    method: 'GET',
    url: '/ws/:chat_id',
    schema: { params: Params, querystring: Query, hide: true },
    // Hooks run before the upgrade, so a refusal is a plain HTTP error and no socket is ever opened for it.
    preHandler: [app.authenticateSocket, async (request) => {
      request.socketChat = await app.chat.participantChat(callerOf(request), request.params.chat_id)
    }, app.reserveSocket],
    // A plain GET (curl, a mistyped fetch) says what this URL is for instead of an empty 404.
    handler: async () => { throw new AppError('upgrade_required', 'Open this URL with a WebSocket') },
    wsHandler: (socket, request) => {
      const chat = request.socketChat
      if (chat === null) throw new Error('ws-chat handler reached without an authorised chat')
      const identity = callerOf(request)
      const slot = request.socketSlot
      const afterSeq = request.query.after_seq ?? null
      releaseUpgradeRequest(socket, request)
      startSession(socket, identity, 'chat', new ChatConnection(deps, identity, chat, afterSeq), {
        registry: app.connections,
        chatId: chat.chatId,
        maxBufferedBytes: config.ws.maxBufferedBytes,
        expiresAt: request.tokenExpiresAt,
        verifyToken: app.verifySocketToken,
        release: async () => { await slot?.release() }
      })
    }
  })
}

export default wsChatRoutes
