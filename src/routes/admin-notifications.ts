// Owns the notification admin API: listing and re-driving dead-lettered deliveries, behind Bearer ADMIN_TOKEN.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DbInteger } from '../chat/schemas.js'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'
import { bearerToken } from '../plugins/auth.js'
import { listDeadLetters, redriveDeadLetters } from '../notify/outbox-repository.js'
import { ErrorResponse } from '../http/schemas.js'

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

const DeadLetter = Type.Object({
  id: Type.String(),
  channel: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  attempts: Type.Integer(),
  created_at: Type.String(),
  failed_at: Type.String(),
  last_error: Type.Union([Type.String(), Type.Null()]),
  body: Type.String()
})

const adminNotificationRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const expected = config.notify.adminToken === null ? null : digest(config.notify.adminToken)
  // Without ADMIN_TOKEN nobody gets in: these endpoints show message text and re-send events.
  const requireAdmin = async (request: Parameters<typeof bearerToken>[0]): Promise<void> => {
    const token = bearerToken(request)
    if (expected === null || token === null || !timingSafeEqual(digest(token), expected)) {
      throw new AppError('unauthorized', 'Send Authorization: Bearer <ADMIN_TOKEN>')
    }
  }

  app.get('/admin/notifications/dead-letters', {
    preValidation: requireAdmin,
    schema: {
      tags: ['operations'],
      summary: 'Deliveries that failed for their whole retry window, newest first (Bearer ADMIN_TOKEN)',
      security: [{ adminToken: [] }],
      querystring: Type.Object({ limit: DbInteger(1, { maximum: 1000, default: 100 }) }),
      response: { 200: Type.Object({ dead_letters: Type.Array(DeadLetter) }), 401: ErrorResponse }
    }
  }, async (request) => {
    const rows = await listDeadLetters(app.db, request.query.limit)
    return {
      dead_letters: rows.map((row) => ({
        ...row,
        created_at: new Date(row.created_at).toISOString(),
        failed_at: new Date(row.failed_at).toISOString()
      }))
    }
  })

  app.post('/admin/notifications/dead-letters/retry', {
    preValidation: requireAdmin,
    schema: {
      tags: ['operations'],
      summary: 'Put dead letters (all, or the given ids) back in the outbox with a fresh retry window (Bearer ADMIN_TOKEN)',
      security: [{ adminToken: [] }],
      body: Type.Optional(Type.Object({ ids: Type.Optional(Type.Array(Type.String({ pattern: '^[0-9]{1,19}$' }), { maxItems: 1000 })) })),
      response: { 200: Type.Object({ requeued: Type.Integer() }), 401: ErrorResponse }
    }
  }, async (request) => {
    const requeued = await redriveDeadLetters(app.db, request.body?.ids ?? null)
    return { requeued }
  })
}

export default adminNotificationRoutes
