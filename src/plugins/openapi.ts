// Owns the API description: OpenAPI 3 generated from the route schemas (/docs/json) and the Swagger UI at /docs.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { ErrorResponse } from '../routes/schemas.js'

// WebSocket frames have no place in OpenAPI's request/response model, so the description carries them.
const WEBSOCKET_FRAMES = `
Drop-in real-time chat between buyers and sellers. Every error is
\`{"error":{"code":"<stable_code>","message":"<text>","request_id":"<id>"}}\`; the same id is in the
\`X-Request-Id\` response header and in the service's log lines.

## WebSockets

Authenticate with \`?token=<token>\` or the token as the \`Sec-WebSocket-Protocol\` value. A bad token is refused
with 401 and a chat the caller is not in with 404, both before the upgrade.

### Per chat: \`GET /api/chat/ws/{chat_id}?token=…&after_seq=N\`

Client → server:

| frame | meaning |
| --- | --- |
| \`{"type":"message","message_text":"…","client_message_id":"…"}\` | send; a repeated client_message_id is acknowledged again, never stored twice |
| \`{"type":"typing","is_typing":true}\` | typing indicator (expires after 6 s) |
| \`{"type":"read","up_to_seq":42}\` | read pointer; omit up_to_seq for everything |
| \`{"type":"ping"}\` | answered with \`{"type":"pong"}\` |

Server → client:

| frame | when |
| --- | --- |
| \`{"type":"history","messages":[Message…],"complete":true}\` | on connect: the last 50, or everything after after_seq (several frames, the last with complete:true) |
| \`{"type":"presence","online":["<user id>",…]}\` | on connect and whenever a participant comes online or goes offline |
| \`{"type":"ack","client_message_id":"…","message":Message}\` | to the sending connection, after commit |
| \`{"type":"message","message":Message}\` | to every other connection of both participants |
| \`{"type":"typing","user_id":"…","is_typing":true}\` | to the other participant |
| \`{"type":"read","user_id":"…","last_read_seq":42}\` | to both participants |
| \`{"type":"error","code":"…","message":"…","client_message_id":"…"}\` | a bad frame; the connection stays open. Codes: invalid_json, unknown_type, validation_failed, empty_message, message_too_long, rate_limited |

Close codes: 1001 server shutting down (reconnect), 1009 frame larger than 16 KiB, 1013 slow consumer.

### Inbox: \`GET /api/chat/ws/inbox?token=…\`

| frame | when |
| --- | --- |
| \`{"type":"presence","user_id":"…","online":true}\` | on connect, for every counterpart online; later on every change |
| \`{"type":"chat_updated","chat":ChatSummary}\` | a new chat, a new message, a read |
`

export default fp(async (app) => {
  // Upgrade routes are hidden (by @fastify/websocket, or their own schema); clients need their paths and parameters,
  // so they are listed under "realtime" (the frames are in the description). Runs after the websocket plugin's hook.
  app.addHook('onRoute', (route) => {
    if ((route.websocket !== true && route.wsHandler === undefined) || route.method === 'HEAD' || route.schema === undefined) return
    route.schema = {
      ...route.schema,
      hide: false,
      tags: ['realtime'],
      summary: route.url.endsWith('/inbox') ? 'Open the inbox stream (WebSocket)' : 'Open a chat socket (WebSocket)',
      description: 'A WebSocket upgrade; the frames are in the API description. Refused before the upgrade with 401 or 404; ' +
        'a plain GET without the upgrade gets 426.',
      response: {
        101: { description: 'Switching Protocols: the socket is open' },
        401: ErrorResponse,
        404: ErrorResponse,
        426: ErrorResponse,
        429: ErrorResponse
      }
    }
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      // The API contract's version, not the package's: it changes only when clients must.
      info: { title: 'Marketplace chat', version: '1.0.0', description: WEBSOCKET_FRAMES.trim() },
      tags: [
        { name: 'identity', description: 'Anonymous buyer sessions' },
        { name: 'chats', description: 'Chats and inboxes' },
        { name: 'messages', description: 'History, sending and read receipts' },
        { name: 'realtime', description: 'WebSocket upgrades (frames in the description above)' },
        { name: 'health', description: 'Liveness and readiness probes' },
        { name: 'operations', description: 'Metrics' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: "The marketplace's JWT (registered users) or a token from POST /api/chat/anonymous"
          },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' }
        }
      }
    }
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // No call to the public validator badge: the CSP allows only this origin.
    uiConfig: { validatorUrl: null, deepLinking: false }
  })
}, { name: 'openapi' })
