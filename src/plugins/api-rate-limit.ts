// Owns the overall request budget per client address on /api/*, on top of the per-route limits the routes declare.
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'

const API_PREFIX = '/api/'
const WINDOW_MS = 60_000

/**
 * Whether the request is for the API, as the router saw it: by the route it matched, so /%61pi/... (which the router
 * decodes and serves as /api/...) counts like /api/...; a request that matched nothing counts by its decoded path.
 */
function forApi (request: FastifyRequest): boolean {
  const route = request.routeOptions.url
  if (route !== undefined) return route.startsWith(API_PREFIX)
  const path = request.url.split('?')[0] ?? ''
  let decoded = path
  try { decoded = decodeURIComponent(path) } catch {}
  return decoded.toLowerCase().startsWith(API_PREFIX)
}

export default fp<{ config: Config }>(async (app, { config }) => {
  // createRateLimit, not rateLimit(): the latter marks the request as limited and would switch off the routes' own limits.
  const limit = app.createRateLimit({ max: config.rateLimit.apiPerMinute, timeWindow: WINDOW_MS })
  app.addHook('onRequest', async (request, reply) => {
    if (!forApi(request)) return
    const result = await limit(request)
    if (result.isAllowed || !result.isExceeded) return
    void reply.header('retry-after', String(result.ttlInSeconds))
    void reply.header('x-ratelimit-limit', String(result.max))
    void reply.header('x-ratelimit-remaining', '0')
    void reply.header('x-ratelimit-reset', String(result.ttlInSeconds))
    throw new AppError('rate_limited', `Too many requests from this address; retry in ${result.ttlInSeconds} s`)
  })
}, { name: 'api-rate-limit', dependencies: ['@fastify/rate-limit'] })
