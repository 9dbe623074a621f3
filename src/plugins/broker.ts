// Owns the app's fan-out and presence (app.broker, app.presence, app.redisStatus, app.pingRedis): Redis-backed when REDIS_URL is set (several instances), in-process otherwise.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import type { Broker } from '../realtime/broker.js'
import { createMemoryBroker } from '../realtime/memory-broker.js'
import { createMemoryPresence, type Presence } from '../realtime/presence.js'

/** 'disabled' when this instance runs alone (no REDIS_URL). */
export type RedisHealth = 'up' | 'down' | 'disabled'

declare module 'fastify' {
  interface FastifyInstance {
    broker: Broker
    presence: Presence
    /** Whether Redis is usable right now, without a round trip (for metrics gauges and logs). */
    redisStatus: () => RedisHealth
    /** One bounded round trip to Redis (for the readiness probe). */
    pingRedis: () => Promise<RedisHealth>
  }
}

// Start-up waits this long for Redis, then serves anyway (Redis is an accelerator, Postgres the truth) and reconnects.
const STARTUP_WAIT_MS = 3000

export default fp<{ config: Config }>(async (app, { config }) => {
  if (config.redisUrl === null) {
    const broker = createMemoryBroker()
    const presence = createMemoryPresence(broker)
    app.decorate('broker', broker)
    app.decorate('presence', presence)
    app.decorate('redisStatus', () => 'disabled' as const)
    app.decorate('pingRedis', async () => 'disabled' as const)
    app.addHook('onClose', async () => {
      await presence.close()
      await broker.close()
    })
    return
  }

  // Loaded only here: a lone instance never pays for importing ioredis at start-up.
  const { createRedisBroker } = await import('../realtime/redis-broker.js')
  const { createRedisPresence } = await import('../realtime/redis-presence.js')
  const log = app.log.child({ component: 'redis' })
  const broker = createRedisBroker({ url: config.redisUrl, prefix: config.redisKeyPrefix, log })
  const presence = createRedisPresence(broker, { ttlMs: config.presenceTtlMs, heartbeatMs: config.presenceHeartbeatMs, log })
  app.decorate('broker', broker)
  app.decorate('presence', presence)
  app.decorate('redisStatus', () => broker.status())
  app.metrics.readRedis(() => broker.status())
  app.decorate('pingRedis', async () => await broker.ping())
  app.addHook('onClose', async () => {
    await presence.close()
    await broker.close()
  })
  if (await broker.waitUntilUp(STARTUP_WAIT_MS) === 'down') {
    log.warn({ redis: 'down' }, 'redis unreachable at start-up: serving from this instance alone until it answers')
  }
}, { name: 'broker', dependencies: ['metrics'] })
