// Owns the chat REST routes: open a chat about a listing, list the caller's chats, read one, hide one.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ChatSummary, DbInteger } from '../chat/schemas.js'
import type { Config } from '../config.js'
import { authErrors, bearerSecurity, ChatIdParams, CompatFields, ErrorResponse, ExternalId } from '../http/schemas.js'
import { callerOf } from '../plugins/auth.js'

const notFound = { 404: ErrorResponse }

const chatRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  // Authentication runs before validation: a caller without a valid token gets 401, whatever else is wrong with the request.
  const authenticate = app.authenticate

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
        limit: DbInteger(1, { maximum: 100, default: 50 }),
        offset: DbInteger(0, { default: 0 }),
        user_id: CompatFields.user_id
      }),
      response: { 200: Type.Object({ chats: Type.Array(ChatSummary), total: Type.Integer() }), ...authErrors }
    }
  }, async (request) => {
    const { role, is_seller: isSeller, limit, offset } = request.query
    const chosen = role ?? (isSeller === undefined ? null : isSeller ? 'seller' : 'buyer')
    return await app.chat.listMyChats(callerOf(request), { role: chosen, limit, offset })
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
}

export default chatRoutes
