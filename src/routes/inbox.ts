// Owns the seller's inbox REST routes: chats grouped by listing, and the unread totals for a navigation badge.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DbInteger, GroupedInboxPage, ListingGroup, UnreadCount } from '../chat/schemas.js'
import { StorableString } from '../chat/storable-text.js'
import { authErrors, bearerSecurity } from '../http/schemas.js'
import { callerOf } from '../plugins/auth.js'

const inboxRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Authentication runs before validation: a caller without a valid token gets 401, whatever else is wrong with the request.
  const authenticate = app.authenticate

  app.get('/chats/seller/:seller_id/grouped', {
    preValidation: authenticate,
    schema: {
      tags: ['chats'],
      summary: "The seller's inbox grouped by listing, groups ordered by latest activity (only for that seller)",
      description: 'Without `limit` or `cursor`: every group, as an array (the original answer). With them: a page of ' +
        'listings, `{groups, next_cursor, total_chats, total_listings}`; pass `next_cursor` back as `cursor` for the next page.',
      security: bearerSecurity,
      params: Type.Object({ seller_id: StorableString() }),
      querystring: Type.Object({
        limit: Type.Optional(DbInteger(1, { maximum: 200, description: 'Listings per page (default 50 when a cursor is given)' })),
        cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'next_cursor of the previous page' })),
        blocked: Type.Union([Type.Literal('exclude'), Type.Literal('include')], { default: 'exclude', description: 'Whether chats with people you blocked are listed (their unread never counts)' })
      }),
      response: { 200: Type.Union([Type.Array(ListingGroup), GroupedInboxPage]), ...authErrors }
    }
  }, async (request, reply) => {
    const { limit, cursor, blocked } = request.query
    const page = limit === undefined && cursor === undefined ? null : { limit: limit ?? 50, cursor: cursor ?? null }
    // The service pieces the JSON together as UTF-8 (see groupedJson): the bytes go out as is, past the schema
    // serializer (a Buffer is never serialized), and their length is the content-length without measuring text.
    const body = await app.chat.groupedInbox(callerOf(request), request.params.seller_id, page, { includeBlocked: blocked === 'include' })
    return await reply.type('application/json; charset=utf-8').send(body as unknown as ListingGroup[])
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

export default inboxRoutes
