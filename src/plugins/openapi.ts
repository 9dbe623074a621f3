// Owns the API description: OpenAPI 3 generated from the route schemas (/docs/json) and the Swagger UI at /docs.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { ChatSummary, Message } from '../chat/schemas.js'
import type { ErrorCode } from '../errors.js'
import { ClientFrame, type ClientFrameType, ServerFrame } from '../realtime/frames.js'
import { CLOSE_BANNED, CLOSE_CHAT_CHANGED, CLOSE_IDENTITY_CLAIMED, CLOSE_TOKEN_EXPIRED, MAX_MESSAGE_LENGTH, TYPING_TIMEOUT_MS } from '../protocol/limits.js'
import { ErrorResponse } from '../http/schemas.js'
import { MAX_QUEUED_FRAMES } from '../realtime/socket-session.js'

// WebSocket frames have no place in OpenAPI's request/response model, so the description carries them. The frame
// columns are generated from the unions in src/realtime/frames.ts (the same source docs/websocket.md is tested against);
// the typed tables below make tsc fail when a frame type is added without a line saying what it is for.
type ServerFrameType = ServerFrame['type']
interface FrameSchema { properties: Record<string, { type?: string, items?: unknown }>, required?: string[] }

const CLIENT_FRAMES: Record<ClientFrameType, string> = {
  message: 'send (chat socket); a repeated client_message_id is acknowledged again, never stored twice',
  typing: `typing indicator (chat socket; expires after TYPING_TIMEOUT_MS, ${TYPING_TIMEOUT_MS / 1000} s by default)`,
  read: 'read pointer (chat socket); omit up_to_seq for everything',
  ping: 'answered with pong once every earlier frame is handled (chat and inbox)',
  auth: 'a fresh token for the same person before exp (chat and inbox); answered with auth_ok, or an unauthorized/forbidden error frame (the old expiry stands)'
}
const SERVER_FRAMES: Record<ServerFrameType, string> = {
  history: 'chat, on connect: the last 50, or everything after after_seq (pages of 100, the last with complete:true)',
  presence: 'chat: who of the two is online, on connect and on every change; inbox: one counterpart came online or went offline (on connect for each counterpart online)',
  ack: 'chat: to the sending connection, after commit',
  message: 'chat: to every other connection of both participants',
  typing: 'chat: to the other participant',
  read: 'chat: a read pointer moved, to both participants',
  pong: 'answers ping',
  error: 'a bad frame; the connection stays open (codes below)',
  chat_updated: 'inbox: one of your chats was created or got a message or a read; chat: a claim gave this chat a new buyer (the socket then closes with 4003; reconnect)',
  chat_merged: 'chat and inbox: a claim merged from_chat_id into to_chat_id (a chat socket then closes with 4003; open to_chat_id)',
  auth_ok: 'the fresh token was taken; the socket now lives until this exp (seconds since the epoch)'
}
// Codes an error frame can carry (the HTTP statuses of src/errors.ts do not apply on a socket).
const FRAME_ERRORS: Array<[ErrorCode, string]> = [
  ['invalid_json', 'not JSON, or a binary frame'],
  ['unknown_type', 'a type this socket does not take'],
  ['validation_failed', 'a missing field, a wrong type, a number out of range, or an id the database cannot store'],
  ['empty_message', 'nothing visible left after cleaning'],
  ['message_too_long', `over ${MAX_MESSAGE_LENGTH} characters after cleaning`],
  ['rate_limited', 'too many message or read frames for this person over all their sockets; resend later with the same client_message_id'],
  ['unauthorized', 'an auth frame whose token does not verify'],
  ['forbidden', 'an auth frame with another person\'s token'],
  ['chat_not_found', 'the chat went away'],
  ['blocked', 'the other person blocked you; not stored'],
  ['contact_info_blocked', 'contact details with CONTACT_FILTER=block; not stored'],
  ['spam_suspected', 'the same text into too many chats; not stored'],
  ['attachment_not_found', "attachment_ids names an upload that is not the sender's, not in this chat, or gone"],
  ['attachment_already_used', 'attachment_ids names an upload another message already carries'],
  ['internal_error', 'something failed on our side; resending with the same client_message_id is safe']
]
const CLOSE_CODES: Array<[number, string]> = [
  [1001, 'server shutting down; reconnect with after_seq'],
  [1008, `more than ${MAX_QUEUED_FRAMES} frames waiting to be handled; slow down`],
  [1009, 'frame larger than 16 KiB (it was not stored)'],
  [1011, 'internal error; reconnect with after_seq'],
  [1012, 'the server may have missed live updates for this socket (inbox after a Redis outage, a chat whose catch-up could not read the database); reconnect with after_seq, or reload the inbox list'],
  [1013, 'too slow to read (over WS_MAX_BUFFERED_BYTES unsent), or the database was unavailable when the socket was set up; reconnect with after_seq, with backoff'],
  [CLOSE_TOKEN_EXPIRED, 'token_expired: the token reached its exp; reconnect with a fresh token and after_seq'],
  [CLOSE_IDENTITY_CLAIMED, 'identity_claimed: a registered user claimed this guest; the guest token is refused (401 token_claimed) from now on'],
  [CLOSE_CHAT_CHANGED, 'chat_changed: a claim moved this chat to a new buyer (reconnect) or merged it (open to_chat_id of chat_merged)'],
  [CLOSE_BANNED, 'banned: a moderator banned this identity; reconnecting is refused with 403 banned']
]

/** `{"type":"ack","client_message_id":"…","message":Message}`: a frame's fields as its schema defines them. */
function shape (schema: FrameSchema): string {
  const fields = Object.entries(schema.properties).map(([name, field]) => {
    const optional = schema.required?.includes(name) === false ? '?' : ''
    let value = '…'
    if (name === 'type') value = JSON.stringify((field as { const?: string }).const)
    else if (field === Message) value = 'Message'
    else if (field === ChatSummary) value = 'ChatSummary'
    else if (field.type === 'array') value = field.items === Message ? '[Message…]' : '["…"]'
    else if (field.type === 'string') value = '"…"'
    else if (field.type === 'integer') value = 'N'
    else if (field.type === 'boolean') value = 'true'
    return `"${name}"${optional}:${value}`
  })
  return `\`{${fields.join(',')}}\``
}

function frameTable (union: unknown, meanings: Record<string, string>): string {
  const schemas = (union as { anyOf: FrameSchema[] }).anyOf
  const types = [...new Set(schemas.map((schema) => (schema.properties.type as { const: string }).const))]
  return ['| frame | meaning |', '| --- | --- |', ...types.map((type) => {
    const shapes = schemas.filter((schema) => (schema.properties.type as { const: string }).const === type).map(shape)
    return `| ${shapes.join(' or ')} | ${meanings[type] ?? ''} |`
  })].join('\n')
}

const DESCRIPTION = `
Drop-in real-time chat between buyers and sellers. Every error is
\`{"error":{"code":"<stable_code>","message":"<text>","request_id":"<id>"}}\`; the same id is in the
\`X-Request-Id\` response header and in the service's log lines. Message text is plain text as the sender typed it
(it may contain "<" and "&"): render it as text, never as HTML.

## WebSockets

Two sockets, JSON text frames: \`GET /api/chat/ws/{chat_id}?token=…&after_seq=N\` per chat, and
\`GET /api/chat/ws/inbox?token=…\` for a person's inbox. Authenticate with \`?token=<token>\` or the token as the
\`Sec-WebSocket-Protocol\` value. Refused before the upgrade: a bad token with 401, a chat the caller is not in with
404, a bad after_seq or chat id with 400, a person already holding \`WS_MAX_SOCKETS_PER_USER\` sockets with 429
\`too_many_connections\`, an address over its /api budget with 429 \`rate_limited\`. A socket lives until its token's
\`exp\`, then is closed with ${CLOSE_TOKEN_EXPIRED} unless an \`auth\` frame brought a fresh token for the same person first.

Client → server (the chat socket takes them all, the inbox only ping and auth):

${frameTable(ClientFrame, CLIENT_FRAMES)}

Server → client:

${frameTable(ServerFrame, SERVER_FRAMES)}

Error frame codes: ${FRAME_ERRORS.map(([code, meaning]) => `\`${code}\` (${meaning})`).join(', ')}.

Close codes:

${CLOSE_CODES.map(([code, meaning]) => `- ${code}: ${meaning}`).join('\n')}

After any close, reconnect with after_seq = the highest seq held and resend unacknowledged messages with their
client_message_id: nothing is lost or doubled.
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
      description: 'A WebSocket upgrade; the frames are in the API description. Refused before the upgrade with 400, 401, ' +
        '404 or 429 (too_many_connections, or the per-address budget); a plain GET without the upgrade gets 426.',
      response: {
        101: { description: 'Switching Protocols: the socket is open' },
        400: ErrorResponse,
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
      info: { title: 'Marketplace chat', version: '1.0.0', description: DESCRIPTION.trim() },
      tags: [
        { name: 'identity', description: 'Anonymous buyer sessions' },
        { name: 'chats', description: 'Chats and inboxes' },
        { name: 'messages', description: 'History, sending and read receipts' },
        { name: 'realtime', description: 'WebSocket upgrades (frames in the description above)' },
        { name: 'push', description: 'Web Push subscriptions for unread notifications' },
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
          metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' },
          adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' }
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
