// Owns the limits per person (app.identityLimits): message and read rates across sockets, and the open-socket bound checked before an upgrade.
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { identityKey } from '../auth/identity.js'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'
import { createLocalIdentityLimits, type IdentityLimits, type SocketSlot } from '../realtime/identity-limits.js'
import type { RedisBroker } from '../realtime/redis-broker.js'
import { callerOf } from './auth.js'

declare module 'fastify' {
  interface FastifyInstance {
    identityLimits: IdentityLimits
    /** preHandler for WebSocket routes, after authentication: takes one of the caller's socket slots or answers 429. */
    reserveSocket: (request: FastifyRequest) => Promise<void>
  }
  interface FastifyRequest {
    /** The socket slot a WebSocket upgrade holds; the session gives it back when the socket closes. */
    socketSlot: SocketSlot | null
  }
}

export default fp<{ config: Config }>(async (app, { config }) => {
  const options = { rate: config.ws.messageRate, burst: config.ws.messageBurst, maxSockets: config.ws.maxSocketsPerUser }
  // With REDIS_URL the broker plugin made a RedisBroker; the limits share its connection.
  const limits: IdentityLimits = config.redisUrl !== null
    ? (await import('../realtime/redis-identity-limits.js')).createRedisIdentityLimits(app.broker as RedisBroker, {
        ...options,
        ttlMs: config.presenceTtlMs,
        heartbeatMs: config.presenceHeartbeatMs,
        log: app.log.child({ component: 'identity-limits' })
      })
    : createLocalIdentityLimits(options)
  app.decorate('identityLimits', limits)
  app.decorateRequest('socketSlot', null)
  app.decorate('reserveSocket', async (request: FastifyRequest) => {
    // A plain GET is answered 426 and never becomes a socket: it holds nothing.
    if (!request.ws) return
    const slot = await limits.acquireSocket(identityKey(callerOf(request)))
    if (slot === null) {
      throw new AppError('too_many_connections', `At most ${config.ws.maxSocketsPerUser} open sockets per user; close one first`)
    }
    request.socketSlot = slot
    // An upgrade that never completes never starts a session: the connection's end gives the slot back instead.
    request.raw.socket.once('close', () => { void slot.release() })
  })
  app.addHook('onClose', async () => { await limits.close() })
}, { name: 'identity-limits', dependencies: ['broker', 'auth'] })
