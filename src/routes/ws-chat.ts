// Owns the per-chat WebSocket route: refuse bad tokens (401) and outsiders (404) before upgrading, then hand the socket to ChatConnection.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Config } from '../config.js'
import type { ChatRow } from '../db/schema.js'
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

  app.get('/ws/:chat_id', {
    websocket: true,
    schema: { params: Params, querystring: Query },
    // Hooks run before the upgrade, so a refusal is a plain HTTP error and no socket is ever opened for it.
    preHandler: [app.authenticateSocket, async (request) => {
      request.socketChat = (await app.chat.participantChat(callerOf(request), request.params.chat_id)).chat
    }]
  }, (socket, request) => {
    const chat = request.socketChat
    if (chat === null) throw new Error('ws-chat handler reached without an authorised chat')
    const { after_seq: afterSeq } = request.query as { after_seq?: number }
    const identity = callerOf(request)
    startSession(socket, identity, 'chat', new ChatConnection(deps, identity, chat, afterSeq ?? null), {
      registry: app.realtime,
      maxBufferedBytes: config.ws.maxBufferedBytes
    })
  })
}

export default wsChatRoutes
