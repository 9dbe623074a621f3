// Owns assembling the service: buildApp(config) registers every plugin in order and touches no process state.
import { randomUUID } from 'node:crypto'
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import websocket from '@fastify/websocket'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify from 'fastify'
import type { DestinationStream } from 'pino'
import type { Config } from './config.js'
import { loggerOptions } from './logger.js'
import { AppError } from './errors.js'
import authPlugin from './plugins/auth.js'
import chatServicePlugin from './plugins/chat-service.js'
import databasePlugin from './plugins/database.js'
import errorHandlerPlugin from './plugins/error-handler.js'
import realtimePlugin from './plugins/realtime.js'
import realtimeConnectionsPlugin from './plugins/realtime-connections.js'
import anonymousRoutes from './routes/anonymous.js'
import chatRoutes from './routes/chats.js'
import healthRoutes from './routes/health.js'
import staticRoutes from './routes/static-files.js'
import wsChatRoutes from './routes/ws-chat.js'
import wsInboxRoutes from './routes/ws-inbox.js'

export interface AppOptions {
  /** Where log lines go; tests pass a stream to read them. */
  logStream?: DestinationStream
}

const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/

export async function buildApp (config: Config, options: AppOptions = {}) {
  const app = Fastify({
    logger: loggerOptions(config, options.logStream),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // A load balancer's request id is kept so one id follows a request across services.
    requestIdHeader: 'x-request-id',
    genReqId: (request) => {
      const incoming = request.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID()
    },
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } }
  }).withTypeProvider<TypeBoxTypeProvider>()

  // External plugins.
  await app.register(cors, {
    origin: config.corsOrigins.includes('*') ? true : config.corsOrigins.length > 0 ? config.corsOrigins : false,
    methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'Retry-After'],
    maxAge: 600
  })
  await app.register(websocket, {
    options: { maxPayload: config.ws.maxPayloadBytes },
    // The plugin's default would close every socket at once without a code; realtime-connections closes them
    // with 1001 after the messages they already sent are committed.
    preClose: async () => {},
    // ws has already closed the socket with the fitting code (1009 frame too big, 1007 bad UTF-8, ...): a client's
    // bad frame is logged, not treated as our failure, and never cut before the close frame is out.
    errorHandler: (error, socket, request) => {
      request.log.info({ err: error }, 'websocket error')
      if (socket.readyState === socket.OPEN) socket.close(1011, 'Internal error; reconnect')
    }
  })
  // Limits are per route (see routes/); none applies unless a route asks.
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => new AppError('rate_limited', `Too many requests; retry in ${context.after}`)
  })

  // Cross-cutting plugins.
  await app.register(errorHandlerPlugin)
  await app.register(databasePlugin, { config })
  await app.register(authPlugin, { config })
  await app.register(realtimePlugin, { config })
  await app.register(chatServicePlugin, { config })
  await app.register(realtimeConnectionsPlugin, { config })

  // Routes.
  await app.register(healthRoutes)
  await app.register(anonymousRoutes, { prefix: '/api/chat', config })
  await app.register(chatRoutes, { prefix: '/api/chat', config })
  await app.register(wsInboxRoutes, { prefix: '/api/chat', config })
  await app.register(wsChatRoutes, { prefix: '/api/chat', config })
  await app.register(staticRoutes, { config })

  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
