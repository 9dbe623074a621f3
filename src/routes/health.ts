// Owns the liveness and readiness probes used by Docker and load balancers.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { pingDatabase } from '../db/database.js'

const READY_TIMEOUT_MS = 2000

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
      summary: 'Readiness: a database round trip succeeds',
      response: {
        200: Type.Object({ status: Type.Literal('ready'), database: Type.Literal('up') }, { additionalProperties: true }),
        503: Type.Object({ status: Type.Literal('unavailable'), database: Type.Literal('down'), reason: Type.String() }, { additionalProperties: true })
      }
    }
  }, async (request, reply) => {
    try {
      await pingDatabase(app.db, READY_TIMEOUT_MS)
      return { status: 'ready' as const, database: 'up' as const }
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed: database unreachable')
      return await reply.status(503).send({ status: 'unavailable' as const, database: 'down' as const, reason: 'database unreachable' })
    }
  })
}

export default healthRoutes
