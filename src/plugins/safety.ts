// Owns wiring safety into the app: the guard ChatService asks, the ban check on every identity, the SafetyEvents port, and app.safety for the routes.
import fp from 'fastify-plugin'
import type { ChatGuard } from '../chat/chat-guard.js'
import type { Config } from '../config.js'
import { noSafetyEvents, type SafetyEvents } from '../safety/safety-events.js'
import { banCheck, createSafetyGuard } from '../safety/safety-guard.js'
import { SafetyService } from '../safety/safety-service.js'
import { LocalTextWindow, type SameTextWindow } from '../safety/text-window.js'
import type { RedisBroker } from '../realtime/redis-broker.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Told of reports and spam holds. A no-op until something (webhook delivery) replaces it before the app is ready. */
    safetyEvents: SafetyEvents
    chatGuard: ChatGuard
    safety: SafetyService
  }
}

/** Before chat-service: the guard it is built with, and the ban check of every authenticated request and socket upgrade. */
export const safetyGuardPlugin = fp<{ config: Config }>(async (app, { config }) => {
  app.decorate('safetyEvents', noSafetyEvents)
  // With REDIS_URL the broker plugin made a RedisBroker; instances share the same-text count through it.
  const sameText: SameTextWindow = config.redisUrl !== null
    ? (await import('../safety/redis-text-window.js')).createRedisTextWindow(app.broker as RedisBroker, { log: app.log.child({ component: 'same-text' }) })
    : new LocalTextWindow()
  app.addHook('onClose', async () => { await sameText.close() })
  app.decorate('chatGuard', createSafetyGuard({ db: app.db, config: config.safety, events: () => app.safetyEvents, sameText }))
  app.identityChecks.push(banCheck(app.db))
}, { name: 'safety-guard', dependencies: ['database', 'auth', 'broker'] })

/** After chat-service and the socket registry: blocks announce through the chat events, bans close sockets everywhere. */
export const safetyServicePlugin = fp(async (app) => {
  app.decorate('safety', new SafetyService({
    db: app.db,
    chatEvents: app.chatEvents,
    safetyEvents: () => app.safetyEvents,
    closeUser: async (userKey, code, reason) => { await app.connections.closeUser(userKey, code, reason) },
    log: app.log
  }))
}, { name: 'safety', dependencies: ['safety-guard', 'chat-service', 'connections'] })
