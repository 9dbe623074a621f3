// Owns the app's ChatService: the domain wired to this app's database, optional listing lookup, and what reacts to its events (broker fan-out, metrics).
import fp from 'fastify-plugin'
import { combineEvents, metricsEvents, type ChatEvents } from '../chat/chat-events.js'
import { ChatService } from '../chat/chat-service.js'
import type { SendBatcherOptions } from '../chat/send-batcher.js'
import { createListingLookup } from '../chat/listing-lookup.js'
import type { Config } from '../config.js'
import { fanOutEvents } from '../realtime/fan-out-events.js'
import { notificationsEnabled } from './notifications.js'

declare module 'fastify' {
  interface FastifyInstance {
    chat: ChatService
    /** What ChatService reports its changes to; other domains (blocks) report chat changes through it too. */
    chatEvents: ChatEvents
  }
}

const MAX_BATCH = 500
const WAITING_PER_EXTRA_BATCH = 16

/**
 * PGlite has one connection, so one batch at a time. On Postgres up to four batches in flight overlap one
 * statement's commit with the next one's work (measured with `npm run bench -- throughput`: one or two in flight
 * fall behind near 8,000 msg/s), and the rest of the pool stays free for reads.
 */
function sendBatchFor (config: Config, onBatch: (messages: number) => void): SendBatcherOptions {
  const maxInFlight = config.database.kind === 'pglite' ? 1 : Math.max(1, Math.min(4, config.database.poolMax - 1))
  const notifyDelaySeconds = notificationsEnabled(config) ? config.notify.delaySeconds : null
  return { maxBatch: MAX_BATCH, maxInFlight, waitingPerExtraBatch: WAITING_PER_EXTRA_BATCH, onBatch, notifyDelaySeconds }
}

export default fp<{ config: Config }>(async (app, { config }) => {
  // Webhooks, push or moderation hooks join here as more implementations.
  const events = combineEvents(app.log, fanOutEvents(app.broker, app.log), metricsEvents(app.metrics), {
    // This instance refuses the claimed token at once, without asking the database again.
    guestClaimed: ({ guest }) => { app.claimedGuests.remember(guest.userId) }
  })
  app.decorate('chatEvents', events)
  app.decorate('chat', new ChatService({
    db: app.db,
    events,
    guard: app.chatGuard,
    listingLookup: config.listingLookup === null ? null : createListingLookup(config.listingLookup),
    listingDetailsMaxAgeSeconds: config.listingLookup?.cacheSeconds ?? 60,
    log: app.log,
    attachments: app.attachments,
    sendBatch: sendBatchFor(config, (messages) => { app.metrics.sendBatchMessages.observe(messages) })
  }))
}, { name: 'chat-service', dependencies: ['database', 'broker', 'metrics', 'auth', 'safety-guard', 'attachments'] })
