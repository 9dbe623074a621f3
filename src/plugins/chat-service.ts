// Owns the app's ChatService: the domain wired to this app's database, broker and optional listing lookup.
import fp from 'fastify-plugin'
import { ChatService } from '../chat/chat-service.js'
import { createListingLookup } from '../chat/listing-lookup.js'
import type { Config } from '../config.js'

declare module 'fastify' {
  interface FastifyInstance {
    chat: ChatService
  }
}

export default fp<{ config: Config }>(async (app, { config }) => {
  app.decorate('chat', new ChatService({
    db: app.db,
    broker: app.broker,
    listingLookup: config.listingLookup === null ? null : createListingLookup(config.listingLookup),
    log: app.log
  }))
}, { name: 'chat-service', dependencies: ['database', 'realtime'] })
