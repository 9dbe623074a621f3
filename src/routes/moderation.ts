// Owns the moderators' REST API; to anyone without the chat_moderator role these routes do not exist (404, as for any unknown route).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ChatSummary, DbInteger, Message } from '../chat/schemas.js'
import { StorableString } from '../chat/storable-text.js'
import { bearerToken, callerOf } from '../plugins/auth.js'
import { isModerator } from '../safety/safety-service.js'
import { bearerSecurity, ChatIdParams, ErrorResponse } from '../http/schemas.js'

const Person = Type.Object({ user_id: Type.String(), registered: Type.Boolean() })
const Report = Type.Object({
  id: Type.String({ format: 'uuid' }),
  chat_id: Type.String({ format: 'uuid' }),
  reporter: Person,
  reported: Person,
  reason: Type.String(),
  seq: Type.Union([Type.Integer(), Type.Null()]),
  comment: Type.Union([Type.String(), Type.Null()]),
  status: Type.String({ description: 'open or resolved' }),
  resolution: Type.Union([Type.String(), Type.Null()], { description: 'dismiss or ban, once resolved' }),
  resolved_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' })
})
const ModeratedMessage = Type.Intersect([Message, Type.Object({ flags: Type.Array(Type.String(), { description: '"contact_info" when the contact filter found something' }) })])
const errors = { 400: ErrorResponse, 404: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse }

const moderationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Whoever is not a moderator, with a bad token or none, gets the not-found answer of an unknown route.
  const moderatorOnly = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    // Not app.authenticate: its seed-era user_id check would read the ban body's user_id (the target) as a claim.
    try {
      const token = bearerToken(request)
      const identity = token === null ? null : app.tokens.verify(token)
      if (identity !== null) for (const check of app.identityChecks) await check(identity)
      request.identity = identity
    } catch {
      request.identity = null
    }
    if (isModerator(request.identity)) return undefined
    reply.callNotFound()
    return reply
  }

  app.get('/moderation/reports', {
    preValidation: moderatorOnly,
    schema: {
      tags: ['moderation'],
      summary: 'Reports, newest first (moderators only)',
      security: bearerSecurity,
      querystring: Type.Object({
        status: Type.Union([Type.Literal('open'), Type.Literal('resolved')], { default: 'open' }),
        limit: DbInteger(1, { maximum: 100, default: 50 }),
        cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 }))
      }),
      response: { 200: Type.Object({ reports: Type.Array(Report), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errors }
    }
  }, async (request) => {
    const { status, limit, cursor } = request.query
    return await app.safety.listReports(callerOf(request), status, limit, cursor ?? null)
  })

  app.get('/moderation/chats/:id', {
    preValidation: moderatorOnly,
    schema: {
      tags: ['moderation'],
      summary: "Any chat, as its seller sees it (moderators only; the read is logged with the moderator's id)",
      security: bearerSecurity,
      params: ChatIdParams,
      response: { 200: ChatSummary, ...errors }
    }
  }, async (request) => {
    return await app.safety.moderatedChat(callerOf(request), request.params.id)
  })

  app.get('/moderation/chats/:id/messages', {
    preValidation: moderatorOnly,
    schema: {
      tags: ['moderation'],
      summary: "Any chat's history with the contact filter's flags (moderators only; the read is logged)",
      security: bearerSecurity,
      params: ChatIdParams,
      querystring: Type.Object({
        limit: DbInteger(1, { maximum: 100, default: 50 }),
        before_seq: Type.Optional(DbInteger(1))
      }),
      response: { 200: Type.Object({ messages: Type.Array(ModeratedMessage), has_more: Type.Boolean() }), ...errors }
    }
  }, async (request) => {
    const { limit, before_seq: beforeSeq } = request.query
    return await app.safety.moderatedMessages(callerOf(request), request.params.id, { limit, beforeSeq: beforeSeq ?? null })
  })

  app.post('/moderation/reports/:id/resolve', {
    preValidation: moderatorOnly,
    schema: {
      tags: ['moderation'],
      summary: 'Resolve a report: dismiss it, or ban the reported person (moderators only)',
      security: bearerSecurity,
      params: Type.Object({ id: StorableString({ description: 'Report id (uuid)' }) }),
      body: Type.Object({ action: Type.Union([Type.Literal('dismiss'), Type.Literal('ban')]) }),
      response: { 200: Report, ...errors }
    }
  }, async (request) => {
    return await app.safety.resolveReport(callerOf(request), request.params.id, request.body.action)
  })

  app.post('/moderation/bans', {
    preValidation: moderatorOnly,
    schema: {
      tags: ['moderation'],
      summary: 'Ban a person: their tokens are refused (403 banned) and their sockets close with 4004 on every instance (moderators only)',
      security: bearerSecurity,
      body: Type.Object({
        user_id: StorableString({ minLength: 1, maxLength: 256 }),
        registered: Type.Boolean({ description: 'true: a marketplace account; false: a guest id this service minted' }),
        reason: Type.Optional(StorableString({ maxLength: 1000 }))
      }),
      response: { 204: Type.Null(), ...errors }
    }
  }, async (request, reply) => {
    const { user_id: userId, registered, reason } = request.body
    await app.safety.ban(callerOf(request), { userId, registered }, reason ?? null)
    return await reply.status(204).send(null)
  })

  app.delete('/moderation/bans/:kind/:user_id', {
    preValidation: moderatorOnly,
    schema: {
      tags: ['moderation'],
      summary: 'Lift a ban (moderators only); kind is registered or guest',
      security: bearerSecurity,
      params: Type.Object({
        kind: Type.Union([Type.Literal('registered'), Type.Literal('guest')]),
        user_id: StorableString({ minLength: 1, maxLength: 256 })
      }),
      response: { 204: Type.Null(), ...errors }
    }
  }, async (request, reply) => {
    await app.safety.unban(callerOf(request), { userId: request.params.user_id, registered: request.params.kind === 'registered' })
    return await reply.status(204).send(null)
  })
}

export default moderationRoutes
