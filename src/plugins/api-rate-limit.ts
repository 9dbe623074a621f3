// Owns the overall request budget per client address on /api/*, on top of the per-route limits the routes declare.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'

const API_PREFIX = '/api/'
const WINDOW_MS = 60_000

export default fp<{ config: Config }>(async (app, { config }) => {
  // createRateLimit, not rateLimit(): the latter marks the request as limited and would switch off the routes' own limits.
  const limit = app.createRateLimit({ max: config.rateLimit.apiPerMinute, timeWindow: WINDOW_MS })
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith(API_PREFIX)) return
    const result = await limit(request)
    if (result.isAllowed || !result.isExceeded) return
    void reply.header('retry-after', String(result.ttlInSeconds))
    void reply.header('x-ratelimit-limit', String(result.max))
    void reply.header('x-ratelimit-remaining', '0')
    void reply.header('x-ratelimit-reset', String(result.ttlInSeconds))
    throw new AppError('rate_limited', `Too many requests from this address; retry in ${result.ttlInSeconds} s`)
  })
}, { name: 'api-rate-limit', dependencies: ['@fastify/rate-limit'] })
