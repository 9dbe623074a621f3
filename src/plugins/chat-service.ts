// Owns the app's ChatService: the domain wired to this app's database, broker and optional listing lookup.
import fp from 'fastify-plugin'
import { ChatService } from '../chat/chat-service.js'
import type { SendBatcherOptions } from '../chat/send-batcher.js'
import { createListingLookup } from '../chat/listing-lookup.js'
import type { Config } from '../config.js'

declare module 'fastify' {
  interface FastifyInstance {
    chat: ChatService
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
  return { maxBatch: MAX_BATCH, maxInFlight, waitingPerExtraBatch: WAITING_PER_EXTRA_BATCH, onBatch }
}

export default fp<{ config: Config }>(async (app, { config }) => {
  app.decorate('chat', new ChatService({
    db: app.db,
    broker: app.broker,
    listingLookup: config.listingLookup === null ? null : createListingLookup(config.listingLookup),
    log: app.log,
    sendBatch: sendBatchFor(config, (messages) => { app.metrics.sendBatchMessages.observe(messages) }),
    onMessageStored: () => { app.metrics.messagesStored.inc() }
  }))
}, { name: 'chat-service', dependencies: ['database', 'realtime', 'metrics'] })
