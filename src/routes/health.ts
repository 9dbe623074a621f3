// Owns the liveness and readiness probes used by Docker and load balancers.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { pingDatabase } from '../db/database.js'

const READY_TIMEOUT_MS = 2000

// Redis down is reported but never fails readiness: every instance still stores and serves messages without it.
const RedisField = Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('disabled')], {
  description: "Cross-instance fan-out: 'disabled' when running without REDIS_URL"
})

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health', {
    schema: {
      tags: ['health'],
      summary: 'Liveness: the process answers; never touches the database',
      response: { 200: Type.Object({ status: Type.Literal('healthy'), service: Type.Literal('chat') }) }
    }
  }, async () => ({ status: 'healthy' as const, service: 'chat' as const }))

  app.get('/ready', {
    schema: {
      tags: ['health'],
      summary: 'Readiness: a database round trip succeeds (Redis is reported, not required)',
      response: {
        200: Type.Object({ status: Type.Literal('ready'), database: Type.Literal('up'), redis: RedisField }, { additionalProperties: true }),
        503: Type.Object({ status: Type.Literal('unavailable'), database: Type.Literal('down'), redis: RedisField, reason: Type.String() }, { additionalProperties: true })
      }
    }
  }, async (request, reply) => {
    const redis = app.pingRedis()
    if (!app.databaseIsReady()) {
      return await reply.status(503).send({ status: 'unavailable' as const, database: 'down' as const, redis: await redis, reason: 'database opening' })
    }
    try {
      await pingDatabase(app.db, READY_TIMEOUT_MS)
      return { status: 'ready' as const, database: 'up' as const, redis: await redis }
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed: database unreachable')
      return await reply.status(503).send({ status: 'unavailable' as const, database: 'down' as const, redis: await redis, reason: 'database unreachable' })
    }
  })
}

export default healthRoutes
