// Owns logging: the pino logger options (JSON lines, request ids, no tokens or authorization headers in any line) and
// the one Logger type the modules below the plugins take.
import type { FastifyServerOptions } from 'fastify'
import type { DestinationStream } from 'pino'
import type { Config } from './config.js'

/** What code outside the plugins logs through: the app's pino logger fits it, tests pass a recorder or a silent one. */
export interface Logger {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

const REDACTED = '[REDACTED]'

const TOKEN_KEYS = /^(?:token|access_token)$/i
/** Three base64url segments joined by dots, each long enough that version numbers and host names do not look like one. */
const JWT_LIKE = /[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/

/** Decodes every %XX byte and never throws: enough to see through any spelling of an ASCII key or token. */
function leniently (part: string): string {
  return part.replace(/%([0-9a-f]{2})/gi, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)))
}

const looksLikeToken = (part: string): boolean => JWT_LIKE.test(leniently(part))

/**
 * Tokens travel in WebSocket URLs (browsers cannot set headers there), so URLs are scrubbed before logging: the value
 * of a token query key however it is spelled (?%74oken= is ?token= to the server), and any JWT-looking path segment,
 * key or value, whether or not it would verify.
 */
export function redactUrl (url: string): string {
  const queryAt = url.indexOf('?')
  const path = queryAt === -1 ? url : url.slice(0, queryAt)
  const redactedPath = path.split('/').map((segment) => looksLikeToken(segment) ? REDACTED : segment).join('/')
  if (queryAt === -1) return redactedPath
  const query = url.slice(queryAt + 1).split('&').map((pair) => {
    const equals = pair.indexOf('=')
    const key = equals === -1 ? pair : pair.slice(0, equals)
    if (looksLikeToken(key)) return REDACTED
    if (equals === -1) return pair
    const value = pair.slice(equals + 1)
    return TOKEN_KEYS.test(leniently(key).replace(/\+/g, ' ').trim()) || looksLikeToken(value) ? `${key}=${REDACTED}` : pair
  })
  return `${redactedPath}?${query.join('&')}`
}

export function loggerOptions (config: Config, stream?: DestinationStream): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    ...(stream === undefined ? {} : { stream }),
    ...(config.logPretty && stream === undefined ? { transport: { target: 'pino-pretty' } } : {}),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["sec-websocket-protocol"]',
        'req.headers.cookie',
        'headers.authorization',
        'authorization',
        'token'
      ],
      censor: REDACTED
    },
    serializers: {
      req (request: { method: string, url: string, hostname?: string, ip?: string, headers?: Record<string, unknown> }) {
        return {
          method: request.method,
          url: redactUrl(request.url),
          host: request.hostname,
          remoteAddress: request.ip
        }
      }
    }
  }
}
