// Owns the app's socket registry (app.realtime): counters for metrics, heartbeat, and closing every socket with 1001 on shutdown.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { ConnectionRegistry } from '../realtime/connection-registry.js'

declare module 'fastify' {
  interface FastifyInstance {
    realtime: ConnectionRegistry
  }
}

// Sockets that do not answer our close within this long are cut, so a shutdown fits inside SHUTDOWN_TIMEOUT_MS.
const MAX_CLOSE_GRACE_MS = 2000

export default fp<{ config: Config }>(async (app, { config }) => {
  const registry = new ConnectionRegistry({
    heartbeatMs: config.ws.heartbeatMs,
    closeGraceMs: Math.min(MAX_CLOSE_GRACE_MS, Math.floor(config.shutdownTimeoutMs / 4)),
    log: app.log
  })
  app.decorate('realtime', registry)
  // preClose runs before the database and broker close, so messages already received are committed and acked first.
  app.addHook('preClose', async () => { await registry.shutdown() })
}, { name: 'realtime-connections', dependencies: ['realtime', 'chat-service'] })
