// Owns wiring safety into the app: the guard ChatService asks, the ban check on every identity, the SafetyEvents port, and app.safety for the routes.
import fp from 'fastify-plugin'
import type { ChatGuard } from '../chat/chat-guard.js'
import type { Config } from '../config.js'
import { FingerprintLog } from '../safety/fingerprint-log.js'
import { noSafetyEvents, type SafetyEvents } from '../safety/safety-events.js'
import { banCheck, createSafetyGuard } from '../safety/safety-guard.js'
import { SafetyService } from '../safety/safety-service.js'

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
  const fingerprints = new FingerprintLog({
    db: app.db,
    onFlushError: (error) => { app.log.warn({ err: error }, 'could not record or prune sent-text fingerprints; the same-text limit may miss sends') }
  })
  app.addHook('onClose', async () => { await fingerprints.close() })
  app.decorate('chatGuard', createSafetyGuard({ db: app.db, config: config.safety, events: () => app.safetyEvents, fingerprints }))
  app.identityChecks.push(banCheck(app.db))
}, { name: 'safety-guard', dependencies: ['database', 'auth'] })

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
