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
import { finiteNumbers } from './http/schemas.js'
import apiRateLimitPlugin from './plugins/api-rate-limit.js'
import attachmentsPlugin from './plugins/attachments.js'
import authPlugin from './plugins/auth.js'
import brokerPlugin from './plugins/broker.js'
import chatServicePlugin from './plugins/chat-service.js'
import connectionsPlugin from './plugins/connections.js'
import databasePlugin from './plugins/database.js'
import errorHandlerPlugin, { frameworkErrorHandler } from './plugins/error-handler.js'
import gracefulShutdownPlugin from './plugins/graceful-shutdown.js'
import identityLimitsPlugin from './plugins/identity-limits.js'
import jsonBodyPlugin from './plugins/json-body.js'
import metricsPlugin from './plugins/metrics.js'
import notificationsPlugin from './plugins/notifications.js'
import openApiPlugin from './plugins/openapi.js'
import { safetyGuardPlugin, safetyServicePlugin } from './plugins/safety.js'
import securityHeadersPlugin from './plugins/security-headers.js'
import adminNotificationRoutes from './routes/admin-notifications.js'
import anonymousRoutes from './routes/anonymous.js'
import blockRoutes from './routes/blocks.js'
import attachmentRoutes from './routes/attachments.js'
import chatRoutes from './routes/chats.js'
import demoTokenRoutes from './routes/demo-token.js'
import claimRoutes from './routes/claim.js'
import moderationRoutes from './routes/moderation.js'
import healthRoutes from './routes/health.js'
import inboxRoutes from './routes/inbox.js'
import messageRoutes from './routes/messages.js'
import metricsRoutes from './routes/metrics.js'
import pushRoutes from './routes/push.js'
import staticRoutes from './routes/static-files.js'
import wsChatRoutes from './routes/ws-chat.js'
import wsInboxRoutes from './routes/ws-inbox.js'
import { onSocketError } from './routes/upgraded-socket.js'

export interface AppOptions {
  /** Where log lines go; tests pass a stream to read them. */
  logStream?: DestinationStream
  /** The clock for signed attachment URLs and the unused-upload sweep (tests move it); default Date.now. */
  now?: () => number
  /**
   * Open the embedded database after buildApp returns, so the process listens (and /health answers) while PGlite
   * starts; until it is open, /ready and everything under /api/ answer 503 service_unavailable. `app.databaseReady`
   * rejects when opening fails. Only src/server.ts sets it; tests get an app whose database is open.
   */
  openDatabaseInBackground?: boolean
}

const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/

export async function buildApp (config: Config, options: AppOptions = {}) {
  const app = Fastify({
    logger: loggerOptions(config, options.logStream),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // A load balancer's request id is kept so one id follows a request across services. requestIdHeader stays off:
    // set, Fastify would take the header verbatim and never call genReqId, which is what validates it.
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID()
    },
    frameworkErrors: frameworkErrorHandler,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false }, plugins: [finiteNumbers] }
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
    // The plugin's default would close every socket at once without a code; the connections plugin closes them
    // with 1001 after the messages they already sent are committed.
    preClose: async () => {},
    // Until the route hands the socket over (routes/upgraded-socket.ts), and for a throwing handler.
    errorHandler: (error, socket, request) => { onSocketError(request.log, socket, error) }
  })
  // Limits are per route (see routes/); none applies unless a route asks.
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => new AppError('rate_limited', `Too many requests; retry in ${context.after}`)
  })

  // Cross-cutting plugins.
  await app.register(errorHandlerPlugin)
  await app.register(jsonBodyPlugin)
  await app.register(gracefulShutdownPlugin)
  await app.register(securityHeadersPlugin)
  await app.register(apiRateLimitPlugin, { config })
  // Before every route: it collects them through onRoute.
  await app.register(openApiPlugin)
  await app.register(databasePlugin, { config, background: options.openDatabaseInBackground === true })
  await app.register(metricsPlugin)
  await app.register(authPlugin, { config })
  await app.register(brokerPlugin, { config })
  await app.register(identityLimitsPlugin, { config })
  await app.register(safetyGuardPlugin, { config })
  await app.register(notificationsPlugin, { config })
  await app.register(attachmentsPlugin, { config, ...(options.now === undefined ? {} : { now: options.now }) })
  await app.register(chatServicePlugin, { config })
  await app.register(connectionsPlugin, { config })
  await app.register(safetyServicePlugin)

  // Routes.
  await app.register(healthRoutes)
  await app.register(metricsRoutes, { config })
  await app.register(adminNotificationRoutes, { config })
  await app.register(anonymousRoutes, { prefix: '/api/chat', config })
  await app.register(chatRoutes, { prefix: '/api/chat', config })
  await app.register(messageRoutes, { prefix: '/api/chat', config })
  await app.register(inboxRoutes, { prefix: '/api/chat' })
  await app.register(claimRoutes, { prefix: '/api/chat', config })
  await app.register(blockRoutes, { prefix: '/api/chat' })
  await app.register(moderationRoutes, { prefix: '/api/chat' })
  await app.register(pushRoutes, { prefix: '/api/chat', config })
  await app.register(attachmentRoutes, { prefix: '/api/chat', config })
  await app.register(wsInboxRoutes, { prefix: '/api/chat', config })
  await app.register(wsChatRoutes, { prefix: '/api/chat', config })
  await app.register(staticRoutes, { config })
  await app.register(demoTokenRoutes, { config })

  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
