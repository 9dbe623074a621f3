// Owns the message REST routes of one chat: a page of history, sending, and moving the read pointer.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { perUser } from '../auth/identity.js'
import { AttachmentIds, ClientMessageId, DbInteger, Message, MessageText, ReadState } from '../chat/schemas.js'
import type { Config } from '../config.js'
import { authErrors, bearerSecurity, ChatIdParams, CompatFields, ErrorResponse } from '../http/schemas.js'
import { callerOf } from '../plugins/auth.js'

const notFound = { 404: ErrorResponse }

const messageRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  // Authentication runs before validation: a caller without a valid token gets 401, whatever else is wrong with the request.
  const authenticate = app.authenticate

  app.get('/chats/:id/messages', {
    preValidation: authenticate,
    schema: {
      tags: ['messages'],
      summary: 'A page of history in ascending seq: the newest by default, before_seq to scroll up, after_seq to catch up',
      security: bearerSecurity,
      params: ChatIdParams,
      querystring: Type.Object({
        limit: DbInteger(1, { maximum: 100, default: 50 }),
        before_seq: Type.Optional(DbInteger(1)),
        after_seq: Type.Optional(DbInteger(0)),
        offset: Type.Optional(DbInteger(0)),
        user_id: CompatFields.user_id
      }),
      response: { 200: Type.Object({ messages: Type.Array(Message), has_more: Type.Boolean() }), ...authErrors, ...notFound }
    }
  }, async (request) => {
    const { limit, before_seq: beforeSeq, after_seq: afterSeq, offset } = request.query
    return await app.chat.history(callerOf(request), request.params.id, { limit, beforeSeq, afterSeq, offset })
  })

  app.post('/chats/:id/messages', {
    preValidation: authenticate,
    config: { rateLimit: { max: config.rateLimit.sendPerMinute, timeWindow: 60_000, hook: 'preHandler', keyGenerator: perUser } },
    schema: {
      tags: ['messages'],
      summary: 'Send a message; a repeated client_message_id returns the original instead of storing a duplicate',
      security: bearerSecurity,
      params: ChatIdParams,
      body: Type.Object({ message_text: MessageText, client_message_id: Type.Optional(ClientMessageId), attachment_ids: Type.Optional(AttachmentIds), ...CompatFields }),
      response: { 200: Message, 201: Message, ...authErrors, ...notFound }
    }
  }, async (request, reply) => {
    const { message_text: text, client_message_id: clientMessageId, attachment_ids: attachmentIds } = request.body
    const { message, duplicate } = await app.chat.sendMessage(callerOf(request), request.params.id, text, clientMessageId ?? null, null, attachmentIds ?? [])
    return await reply.status(duplicate ? 200 : 201).send(message)
  })

  app.post('/chats/:id/read', {
    preValidation: [
      authenticate,
      // "Mark everything read" is a bare POST; an absent body means the same as {}.
      async (request) => { request.body ??= {} }
    ],
    schema: {
      tags: ['messages'],
      summary: "Mark the other side's messages read up to a seq (default: all); the pointer only moves forward",
      security: bearerSecurity,
      params: ChatIdParams,
      body: Type.Object({ up_to_seq: Type.Optional(DbInteger(0)), ...CompatFields }),
      response: { 200: ReadState, ...authErrors, ...notFound }
    }
  }, async (request) => {
    return await app.chat.markRead(callerOf(request), request.params.id, request.body.up_to_seq ?? null)
  })
}

export default messageRoutes
