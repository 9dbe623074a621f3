// Owns the chat REST API: authenticate → schema → one ChatService call → reply.
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ChatSummary, ClientMessageId, ListingGroup, Message, MessageText, ReadState, UnreadCount } from '../chat/schemas.js'
import type { Config } from '../config.js'
import { callerOf } from '../plugins/auth.js'
import { authErrors, bearerSecurity, ChatIdParams, CompatFields, ErrorResponse, ExternalId, MAX_DB_INTEGER } from './schemas.js'

const notFound = { 404: ErrorResponse }

const chatRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  // Authentication runs before validation: a caller without a valid token gets 401, whatever else is wrong with the request.
  const authenticate = app.authenticate
  // Clients that set Content-Type: application/json on every call send it on bodiless ones too (mark read, hide).
  // Within these routes an empty JSON body means no body, instead of Fastify's 400 for an empty JSON document.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString()
    if (text.trim() === '') {
      done(null, undefined)
      return
    }
    parseJson(request, text, done)
  })
  const perUser = (request: FastifyRequest): string => request.identity === null ? request.ip : `${request.identity.registered ? 'u' : 'a'}:${request.identity.userId}`

  app.post('/chats', {
    preValidation: authenticate,
    config: { rateLimit: { max: config.rateLimit.createChatPerMinute, timeWindow: 60_000 } },
    schema: {
      tags: ['chats'],
      summary: 'Open the chat about a listing with its seller (the caller is the buyer); returns the existing one if any',
      security: bearerSecurity,
      body: Type.Object({ listing_id: ExternalId, seller_id: ExternalId, ...CompatFields }),
      response: { 200: ChatSummary, 201: ChatSummary, ...authErrors, ...notFound, 409: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request, reply) => {
    const { chat, created } = await app.chat.openChat(callerOf(request), String(request.body.listing_id), String(request.body.seller_id))
    return await reply.status(created ? 201 : 200).send(chat)
  })

  app.get('/chats/my', {
    preValidation: authenticate,
    schema: {
      tags: ['chats'],
      summary: "The caller's chats, newest activity first",
      security: bearerSecurity,
      querystring: Type.Object({
        role: Type.Optional(Type.Union([Type.Literal('buyer'), Type.Literal('seller')])),
        is_seller: Type.Optional(Type.Boolean({ description: 'Seed-era alias of role' })),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
        offset: Type.Integer({ minimum: 0, maximum: MAX_DB_INTEGER, default: 0 }),
        user_id: CompatFields.user_id
      }),
      response: { 200: Type.Object({ chats: Type.Array(ChatSummary), total: Type.Integer() }), ...authErrors }
    }
  }, async (request) => {
    const { role, is_seller: isSeller, limit, offset } = request.query
    const chosen = role ?? (isSeller === undefined ? null : isSeller ? 'seller' : 'buyer')
    return await app.chat.listMyChats(callerOf(request), { role: chosen, limit, offset })
  })

  app.get('/chats/seller/:seller_id/grouped', {
    preValidation: authenticate,
    schema: {
      tags: ['chats'],
      summary: "The seller's inbox grouped by listing, groups ordered by latest activity (only for that seller)",
      security: bearerSecurity,
      params: Type.Object({ seller_id: Type.String() }),
      response: { 200: Type.Array(ListingGroup), ...authErrors }
    }
  }, async (request, reply) => {
    const groups = await app.chat.groupedInbox(callerOf(request), request.params.seller_id)
    // A busy seller's inbox is a megabyte of summaries built field by field by summarize(); JSON.stringify does it
    // in a fraction of the time the schema serializer needs for the nullable (anyOf) fields.
    return await reply.type('application/json; charset=utf-8').send(JSON.stringify(groups) as unknown as ListingGroup[])
  })

  app.get('/chats/:id', {
    preValidation: authenticate,
    schema: {
      tags: ['chats'],
      summary: 'One chat, for its two participants',
      security: bearerSecurity,
      params: ChatIdParams,
      response: { 200: ChatSummary, ...authErrors, ...notFound }
    }
  }, async (request) => {
    return await app.chat.getChat(callerOf(request), request.params.id)
  })

  app.get('/chats/:id/messages', {
    preValidation: authenticate,
    schema: {
      tags: ['messages'],
      summary: 'A page of history in ascending seq: the newest by default, before_seq to scroll up, after_seq to catch up',
      security: bearerSecurity,
      params: ChatIdParams,
      querystring: Type.Object({
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
        before_seq: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DB_INTEGER })),
        after_seq: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DB_INTEGER })),
        offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DB_INTEGER })),
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
      body: Type.Object({ message_text: MessageText, client_message_id: Type.Optional(ClientMessageId), ...CompatFields }),
      response: { 200: Message, 201: Message, ...authErrors, ...notFound }
    }
  }, async (request, reply) => {
    const { message_text: text, client_message_id: clientMessageId } = request.body
    const { message, duplicate } = await app.chat.sendMessage(callerOf(request), request.params.id, text, clientMessageId ?? null)
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
      body: Type.Object({ up_to_seq: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DB_INTEGER })), ...CompatFields }),
      response: { 200: ReadState, ...authErrors, ...notFound }
    }
  }, async (request) => {
    return await app.chat.markRead(callerOf(request), request.params.id, request.body.up_to_seq ?? null)
  })

  app.delete('/chats/:id', {
    preValidation: authenticate,
    schema: {
      tags: ['chats'],
      summary: "Hide the chat from the caller's lists until the other side writes again",
      security: bearerSecurity,
      params: ChatIdParams,
      response: { 204: Type.Null(), ...authErrors, ...notFound }
    }
  }, async (request, reply) => {
    await app.chat.hideChat(callerOf(request), request.params.id)
    return await reply.status(204).send(null)
  })

  app.get('/unread-count', {
    preValidation: authenticate,
    schema: {
      tags: ['chats'],
      summary: "Unread totals for the site's navigation badge",
      security: bearerSecurity,
      response: { 200: UnreadCount, ...authErrors }
    }
  }, async (request) => {
    return await app.chat.unreadCount(callerOf(request))
  })
}

export default chatRoutes
