// Owns the app's fan-out and presence: the in-process implementations by default, closed with the app.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import type { Broker } from '../realtime/broker.js'
import { createMemoryBroker } from '../realtime/memory-broker.js'
import { createMemoryPresence, type Presence } from '../realtime/presence.js'

declare module 'fastify' {
  interface FastifyInstance {
    broker: Broker
    presence: Presence
  }
}

export default fp<{ config: Config }>(async (app) => {
  const broker = createMemoryBroker()
  const presence = createMemoryPresence(broker)
  app.decorate('broker', broker)
  app.decorate('presence', presence)
  app.addHook('onClose', async () => {
    await presence.close()
    await broker.close()
  })
}, { name: 'realtime' })
