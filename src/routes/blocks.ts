// Owns the participants' safety REST API: blocking the other person of a chat and reporting a chat.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ChatSummary, DbInteger } from '../chat/schemas.js'
import { StorableString } from '../chat/storable-text.js'
import { callerOf } from '../plugins/auth.js'
import { authErrors, bearerSecurity, ChatIdParams, ErrorResponse } from '../http/schemas.js'

const blockRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const authenticate = app.authenticate

  app.post('/chats/:id/block', {
    preValidation: authenticate,
    schema: {
      tags: ['safety'],
      summary: "Block the chat's other person in every chat between you two: their sends are refused with 403 blocked",
      security: bearerSecurity,
      params: ChatIdParams,
      response: { 200: ChatSummary, ...authErrors, 404: ErrorResponse }
    }
  }, async (request) => {
    return await app.safety.setBlock(callerOf(request), request.params.id, true)
  })

  app.delete('/chats/:id/block', {
    preValidation: authenticate,
    schema: {
      tags: ['safety'],
      summary: 'Lift your block of the chat\'s other person (idempotent)',
      security: bearerSecurity,
      params: ChatIdParams,
      response: { 204: Type.Null(), ...authErrors, 404: ErrorResponse }
    }
  }, async (request, reply) => {
    await app.safety.setBlock(callerOf(request), request.params.id, false)
    return await reply.status(204).send(null)
  })

  app.post('/chats/:id/report', {
    preValidation: authenticate,
    schema: {
      tags: ['safety'],
      summary: 'Report the chat (or one message of it) to the moderators; a repeat updates your open report',
      security: bearerSecurity,
      params: ChatIdParams,
      body: Type.Object({
        reason: Type.Union([Type.Literal('spam'), Type.Literal('scam'), Type.Literal('abuse'), Type.Literal('other')]),
        seq: Type.Optional(DbInteger(1, { description: 'The message reported, if one' })),
        comment: Type.Optional(StorableString({ maxLength: 1000 }))
      }),
      response: { 201: Type.Object({ id: Type.String({ format: 'uuid' }) }), ...authErrors, 404: ErrorResponse }
    }
  }, async (request, reply) => {
    const { reason, seq, comment } = request.body
    const report = await app.safety.report(callerOf(request), request.params.id, { reason, seq: seq ?? null, comment: comment ?? null })
    return await reply.status(201).send(report)
  })
}

export default blockRoutes
