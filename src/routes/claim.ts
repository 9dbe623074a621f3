// Owns claiming a guest's chats on login: the registered caller's token plus the guest token → one ChatService call.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ChatSummary } from '../chat/schemas.js'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'
import { callerOf } from '../plugins/auth.js'
import { authErrors, bearerSecurity, ErrorResponse } from '../http/schemas.js'

const ClaimResponse = Type.Object({
  buyer_id: Type.String({ description: 'The registered user the chats now belong to' }),
  claimed: Type.Integer({ description: 'Guest chats now the user\'s (0 when this user claimed this guest before)' }),
  merged: Type.Integer({ description: 'Of those, chats merged into one the user already had about the same listing and seller' }),
  chats: Type.Array(ChatSummary, { description: 'The chats the claim changed, as the buyer sees them' }),
  merges: Type.Array(Type.Object({
    from_chat_id: Type.String({ format: 'uuid', description: 'The guest chat, which no longer exists (404 chat_not_found)' }),
    to_chat_id: Type.String({ format: 'uuid' })
  }))
})

const claimRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  app.post('/anonymous/claim', {
    preValidation: app.authenticate,
    config: { rateLimit: { max: config.rateLimit.createChatPerMinute, timeWindow: 60_000 } },
    schema: {
      tags: ['identity'],
      summary: "Claim a guest session's chats for the signed-in user (Bearer: the marketplace token; body: the guest token)",
      security: bearerSecurity,
      body: Type.Object({ anonymous_token: Type.String({ minLength: 1, maxLength: 8192 }) }),
      response: { 200: ClaimResponse, ...authErrors, 409: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request) => {
    let guest
    try {
      // The guest token must verify too; a claimed one still does (that is how a repeat is recognised).
      guest = app.tokens.verify(request.body.anonymous_token)
    } catch (error) {
      throw new AppError('unauthorized', `anonymous_token: ${error instanceof AppError ? error.message : 'not a valid token'}`)
    }
    return await app.chat.claimGuest(callerOf(request), guest, request.displayName)
  })
}

export default claimRoutes
