// Owns the error vocabulary: one code union mapped to HTTP statuses, shared by REST bodies and WebSocket error frames.

export const errorStatus = {
  bad_request: 400,
  validation_failed: 400,
  invalid_json: 400,
  unknown_type: 400,
  empty_message: 400,
  message_too_long: 400,
  cannot_chat_with_self: 400,
  push_endpoint_refused: 400,
  unauthorized: 401,
  token_expired: 401,
  /** A guest token whose chats a registered user claimed: it is refused everywhere from then on. */
  token_claimed: 401,
  forbidden: 403,
  seller_mismatch: 403,
  blocked: 403,
  banned: 403,
  not_found: 404,
  chat_not_found: 404,
  listing_not_found: 404,
  push_not_configured: 404,
  listing_inactive: 409,
  already_claimed: 409,
  cannot_claim_own_listing_chat: 409,
  too_many_push_subscriptions: 409,
  attachment_not_found: 404,
  attachment_already_used: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  uri_too_long: 414,
  contact_info_blocked: 422,
  image_too_large: 422,
  invalid_image: 422,
  upgrade_required: 426,
  rate_limited: 429,
  too_many_connections: 429,
  spam_suspected: 429,
  internal_error: 500,
  service_unavailable: 503,
  /** service_unavailable as a WebSocket error frame names it (see frameCode). */
  unavailable: 503,
  listing_lookup_unavailable: 503
} as const

export type ErrorCode = keyof typeof errorStatus

export class AppError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  /** Sent as Retry-After (seconds) on REST when set: when the same request may succeed. */
  readonly retryAfterSeconds: number | null

  constructor (code: ErrorCode, message: string, options?: { cause?: unknown, retryAfterSeconds?: number }) {
    super(message, options)
    this.name = 'AppError'
    this.code = code
    this.statusCode = errorStatus[code]
    this.retryAfterSeconds = options?.retryAfterSeconds ?? null
  }
}

/** The status an unknown 4xx/5xx from a library maps to, so clients still get a stable code. */
export function codeForStatus (status: number): ErrorCode {
  switch (status) {
    case 401: return 'unauthorized'
    case 403: return 'forbidden'
    case 404: return 'not_found'
    case 413: return 'payload_too_large'
    case 414: return 'uri_too_long'
    case 415: return 'unsupported_media_type'
    case 429: return 'rate_limited'
    case 503: return 'service_unavailable'
    default: return status >= 500 ? 'internal_error' : 'bad_request'
  }
}

export const chatNotFound = (): AppError => new AppError('chat_not_found', 'Chat not found')

/** What a 503 service_unavailable asks the client to wait (REST Retry-After); sockets document the same. */
export const RETRY_AFTER_SECONDS = 2

/**
 * The database is unreachable, hung or overloaded: nothing was stored, and the same request (the same
 * client_message_id for a send) can be retried. REST answers 503 service_unavailable with Retry-After; a WebSocket
 * error frame says `unavailable` (frameCode).
 */
export const serviceUnavailable = (message = 'Service temporarily unavailable; retry shortly'): AppError =>
  new AppError('service_unavailable', message)

/**
 * The code an error frame carries for an error: the REST code, except that a retryable outage is `unavailable` on
 * sockets, the name the socket protocol has always documented for "not stored, resend with the same id shortly".
 */
export function frameCode (code: ErrorCode): ErrorCode {
  return code === 'service_unavailable' ? 'unavailable' : code
}
