// Owns what clients see when anything fails: one JSON shape with a stable code and the request id, never internals.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError, codeForStatus, type ErrorCode } from '../errors.js'

export interface ErrorBody {
  error: { code: ErrorCode, message: string, request_id: string }
}

export function errorBody (request: FastifyRequest, code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message, request_id: String(request.id) } }
}

function describe (error: FastifyError): { status: number, code: ErrorCode, message: string } {
  if (error instanceof AppError) return { status: error.statusCode, code: error.code, message: error.message }
  if (error.validation !== undefined) {
    return { status: 400, code: 'validation_failed', message: error.message }
  }
  const status = error.statusCode ?? 500
  if (status === 413) return { status, code: 'payload_too_large', message: 'Request body is too large' }
  if (status === 429) return { status, code: 'rate_limited', message: error.message || 'Too many requests, slow down' }
  if (status >= 500) return { status, code: codeForStatus(status), message: 'Internal server error' }
  // 4xx from Fastify itself (bad JSON, wrong content type) carry messages meant for clients.
  return { status, code: codeForStatus(status), message: error.message }
}

export default fp(async (app) => {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, code, message } = describe(error)
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed')
    } else {
      request.log.info({ code, status }, message)
    }
    void reply.status(status).send(errorBody(request, code, message))
  })
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(errorBody(request, 'not_found', `Route ${request.method} ${request.url.split('?')[0]} not found`))
  })
  // Every response names its request id, so a support ticket can be traced to the log lines.
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', String(request.id))
  })
}, { name: 'error-handler' })
