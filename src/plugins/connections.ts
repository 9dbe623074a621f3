// Owns the app's sockets (app.connections, app.realtimeDeps): the registry (counters, heartbeat, 1001 on shutdown, closing a
// person's or a chat's sockets on every instance) and the one set of dependencies both WebSocket routes hand their sockets.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import type { RealtimeDeps } from '../realtime/chat-connection.js'
import { ConnectionRegistry } from '../realtime/connection-registry.js'
import { CATCH_UP_CONCURRENCY, TaskLimiter } from '../realtime/task-limiter.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Every socket on this instance: counters, heartbeat, closing a person's or a chat's sockets on every instance. */
    connections: ConnectionRegistry
    /** Built once per app, so limits shared by every socket (catch-up reads at once) hold per instance, not per route. */
    realtimeDeps: RealtimeDeps
  }
}

// Sockets that do not answer our close within this long are cut, so a shutdown fits inside SHUTDOWN_TIMEOUT_MS.
const MAX_CLOSE_GRACE_MS = 2000

export default fp<{ config: Config }>(async (app, { config }) => {
  const registry = new ConnectionRegistry({
    heartbeatMs: config.ws.heartbeatMs,
    closeGraceMs: Math.min(MAX_CLOSE_GRACE_MS, Math.floor(config.shutdownTimeoutMs / 4)),
    log: app.log,
    control: app.broker
  })
  app.decorate('connections', registry)
  app.decorate('realtimeDeps', {
    chat: app.chat,
    broker: app.broker,
    presence: app.presence,
    registry,
    limits: app.identityLimits,
    ws: config.ws,
    log: app.log,
    catchUps: new TaskLimiter(CATCH_UP_CONCURRENCY)
  })
  // Once per instance, whatever number of sockets: control messages act on the registry's index, not per socket.
  const stopControl = await registry.listen()
  app.metrics.readRealtime(() => registry.stats())
  registry.on('rejected', (reason) => { app.metrics.framesRejected.inc({ reason }) })
  registry.on('delivered', (createdAt) => { app.metrics.deliveryLatency.observe(Math.max(0, Date.now() - Date.parse(createdAt)) / 1000) })
  // preClose runs before the database and broker close, so messages already received are committed and acked first.
  app.addHook('preClose', async () => { await registry.shutdown() })
  app.addHook('onClose', async () => { await stopControl() })
}, { name: 'connections', dependencies: ['broker', 'identity-limits', 'chat-service', 'metrics'] })
