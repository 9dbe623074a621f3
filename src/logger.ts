// Owns the pino logger options: JSON lines, request ids, and no tokens or authorization headers in any line.
import type { FastifyServerOptions } from 'fastify'
import type { DestinationStream } from 'pino'
import type { Config } from './config.js'

const REDACTED = '[REDACTED]'

/** Tokens travel in WebSocket URLs (browsers cannot set headers there), so URLs are scrubbed before logging. */
export function redactUrl (url: string): string {
  return url.replace(/([?&](?:token|access_token)=)[^&#]*/gi, `$1${REDACTED}`)
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
