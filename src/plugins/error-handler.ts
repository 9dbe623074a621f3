// Owns what clients see when anything fails: one JSON shape with a stable code and the request id, never internals.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { isDatabaseUnavailable } from '../db/database.js'
import { AppError, codeForStatus, RETRY_AFTER_SECONDS, serviceUnavailable, type ErrorCode } from '../errors.js'
import { redactUrl } from '../logger.js'

export interface ErrorBody {
  error: { code: ErrorCode, message: string, request_id: string }
}

export function errorBody (request: FastifyRequest, code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message, request_id: String(request.id) } }
}

function describe (error: FastifyError): { status: number, code: ErrorCode, message: string } {
  if (error instanceof AppError) return { status: error.statusCode, code: error.code, message: error.message }
  if (isDatabaseUnavailable(error)) {
    const unavailable = serviceUnavailable()
    return { status: unavailable.statusCode, code: unavailable.code, message: unavailable.message }
  }
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

/**
 * Fastify answers a few failures before any route or hook runs (a URL that is not validly percent-encoded, a path
 * parameter over its length limit); passed as the frameworkErrors server option, this gives them the same shape and
 * request id as every other error.
 */
export function frameworkErrorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, code, message } = error.code === 'FST_ERR_BAD_URL'
    ? { status: 400, code: 'bad_request' as const, message: 'The URL is not validly percent-encoded' }
    : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? { status: 414, code: 'uri_too_long' as const, message: 'A path segment of the URL is too long' }
      : describe(error)
  if (status >= 500) request.log.error({ err: error }, 'request failed')
  else request.log.info({ code, status }, message)
  // No hook runs for these (they fail before routing), so the headers every response carries are set here.
  void reply.status(status)
    .header('x-request-id', String(request.id))
    .header('x-content-type-options', 'nosniff')
    .send(errorBody(request, code, message))
}

export default fp(async (app) => {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, code, message } = describe(error)
    if (code === 'service_unavailable') {
      // An outage (database down or hung), not a bug: one warn per request, and the client is told when to retry.
      request.log.warn({ code, status, reason: error.message }, 'request failed: service unavailable')
      void reply.header('retry-after', String(RETRY_AFTER_SECONDS))
    } else if (status >= 500) {
      request.log.error({ err: error }, 'request failed')
    } else {
      request.log.info({ code, status }, message)
    }
    if (error instanceof AppError && error.retryAfterSeconds !== null) void reply.header('retry-after', String(error.retryAfterSeconds))
    void reply.status(status).send(errorBody(request, code, message))
  })
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(errorBody(request, 'not_found', `Route ${request.method} ${redactUrl(request.url.split('?')[0] ?? '')} not found`))
  })
  // Every response names its request id, so a support ticket can be traced to the log lines.
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', String(request.id))
  })
}, { name: 'error-handler' })
