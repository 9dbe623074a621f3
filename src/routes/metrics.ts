// Owns GET /metrics: the Prometheus scrape endpoint, behind METRICS_TOKEN when one is set.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'
import { bearerToken } from '../plugins/auth.js'
import { ErrorResponse } from '../http/schemas.js'

// Hashing first gives equal lengths, so the comparison takes the same time whatever was sent.
const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

const metricsRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const expected = config.metricsToken === null ? null : digest(config.metricsToken)

  app.get('/metrics', {
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics of this instance (Bearer METRICS_TOKEN when the service sets one)',
      ...(expected === null ? {} : { security: [{ metricsToken: [] }] }),
      response: {
        200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } },
        401: ErrorResponse
      }
    }
  }, async (request, reply) => {
    if (expected !== null) {
      const token = bearerToken(request)
      if (token === null || !timingSafeEqual(digest(token), expected)) {
        throw new AppError('unauthorized', 'Send Authorization: Bearer <METRICS_TOKEN>')
      }
    }
    const body = await app.metrics.registry.metrics()
    return await reply.type(app.metrics.registry.contentType).send(body)
  })
}

export default metricsRoutes
