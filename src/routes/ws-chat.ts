// Owns the per-chat WebSocket route: refuse bad tokens (401) and outsiders (404) before upgrading, then hand the socket to ChatConnection.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Config } from '../config.js'
import type { ChatRow } from '../db/schema.js'
import { AppError } from '../errors.js'
import { callerOf } from '../plugins/auth.js'
import { ChatConnection, type RealtimeDeps } from '../realtime/chat-connection.js'
import { startSession } from '../realtime/socket-session.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The chat a socket upgrade was authorised for (set by the ws-chat preHandler). */
    socketChat: ChatRow | null
  }
}

const Params = Type.Object({ chat_id: Type.String({ description: 'Chat id (uuid)' }) })
const Query = Type.Object({
  token: Type.Optional(Type.String({ description: 'Bearer token (or send it as the Sec-WebSocket-Protocol value)' })),
  after_seq: Type.Optional(Type.Integer({ minimum: 0, description: 'Catch up: every message after this seq comes as history' }))
})

const wsChatRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const deps: RealtimeDeps = { chat: app.chat, broker: app.broker, presence: app.presence, registry: app.realtime, ws: config.ws, log: app.log }
  app.decorateRequest('socketChat', null)

  app.route({
    method: 'GET',
    url: '/ws/:chat_id',
    schema: { params: Params, querystring: Query, hide: true },
    // Hooks run before the upgrade, so a refusal is a plain HTTP error and no socket is ever opened for it.
    preHandler: [app.authenticateSocket, async (request) => {
      request.socketChat = (await app.chat.participantChat(callerOf(request), request.params.chat_id)).chat
    }],
    // A plain GET (curl, a mistyped fetch) says what this URL is for instead of an empty 404.
    handler: async () => { throw new AppError('upgrade_required', 'Open this URL with a WebSocket') },
    wsHandler: (socket, request) => {
      const chat = request.socketChat
      if (chat === null) throw new Error('ws-chat handler reached without an authorised chat')
      const identity = callerOf(request)
      const afterSeq = request.query.after_seq ?? null
      startSession(socket, identity, 'chat', new ChatConnection(deps, identity, chat, afterSeq), {
        registry: app.realtime,
        maxBufferedBytes: config.ws.maxBufferedBytes
      })
    }
  })
}

export default wsChatRoutes
