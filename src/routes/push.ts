// Owns the Web Push REST API: the VAPID public key, and subscribing/unsubscribing the caller's browsers.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { StorableString } from '../chat/storable-text.js'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'
import { callerOf } from '../plugins/auth.js'
import { authErrors, bearerSecurity, ErrorResponse } from '../http/schemas.js'

// What PushSubscription.toJSON() gives; the keys are base64url (p256dh: a 65-byte P-256 point, auth: 16 bytes).
// Storable: stored as given, so a NUL or lone surrogate is refused here rather than failing the insert.
const Endpoint = StorableString({ minLength: 1, maxLength: 1024, description: "The push service URL from the browser's PushSubscription" })
const SubscriptionBody = Type.Object({
  endpoint: Endpoint,
  expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  keys: Type.Object({
    p256dh: Type.String({ pattern: '^[A-Za-z0-9_-]{86,88}={0,2}$' }),
    auth: Type.String({ pattern: '^[A-Za-z0-9_-]{22,24}={0,2}$' })
  })
})

const pushRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const vapid = config.notify.webPush

  app.get('/push/public-key', {
    schema: {
      tags: ['push'],
      summary: 'The VAPID public key to pass to pushManager.subscribe (404 push_not_configured without Web Push keys)',
      response: { 200: Type.Object({ public_key: Type.String() }), 404: ErrorResponse }
    }
  }, async () => {
    if (vapid === null) throw new AppError('push_not_configured', 'This service has no Web Push keys')
    return { public_key: vapid.publicKey }
  })

  app.post('/push/subscriptions', {
    preValidation: app.authenticate,
    schema: {
      tags: ['push'],
      summary: "Subscribe one of the caller's browsers to unread notifications (201 new, 200 already known)",
      security: bearerSecurity,
      body: SubscriptionBody,
      response: { 200: Type.Object({ endpoint: Endpoint }), 201: Type.Object({ endpoint: Endpoint }), ...authErrors, 404: ErrorResponse, 409: ErrorResponse }
    }
  }, async (request, reply) => {
    const { endpoint, keys } = request.body
    const { created } = await app.notifications.pushSubscriptions.subscribe(callerOf(request), { endpoint, keys })
    return await reply.status(created ? 201 : 200).send({ endpoint })
  })

  app.delete('/push/subscriptions', {
    preValidation: app.authenticate,
    schema: {
      tags: ['push'],
      summary: "Remove one of the caller's push subscriptions (204 also when it was not there)",
      security: bearerSecurity,
      body: Type.Object({ endpoint: Endpoint }),
      response: { 204: Type.Null(), ...authErrors }
    }
  }, async (request, reply) => {
    await app.notifications.pushSubscriptions.unsubscribe(callerOf(request), request.body.endpoint)
    return await reply.status(204).send(null)
  })
}

export default pushRoutes
